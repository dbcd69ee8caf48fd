"""Fine-tune a Hugging Face image classifier (ViT) on a folder dataset with the Trainer."""
import evaluate
import numpy as np
import torch
from datasets import load_dataset
from torchvision.transforms import (
    CenterCrop, Compose, Normalize, RandomHorizontalFlip, RandomResizedCrop, Resize, ToTensor,
)
from transformers import (
    AutoImageProcessor, AutoModelForImageClassification, Trainer, TrainingArguments,
)

model_name = "google/vit-base-patch16-224-in21k"
dataset = load_dataset("imagefolder", data_dir="beans_images")
splits = dataset["train"].train_test_split(test_size=0.15, seed=42)
dataset["train"], dataset["validation"] = splits["train"], splits["test"]

labels = dataset["train"].features["label"].names
label2id = {label: str(i) for i, label in enumerate(labels)}
id2label = {str(i): label for i, label in enumerate(labels)}

image_processor = AutoImageProcessor.from_pretrained(model_name)
if "shortest_edge" in image_processor.size:
    size = image_processor.size["shortest_edge"]
else:
    size = (image_processor.size["height"], image_processor.size["width"])
normalize = Normalize(mean=image_processor.image_mean, std=image_processor.image_std)
train_transforms = Compose([RandomResizedCrop(size), RandomHorizontalFlip(), ToTensor(), normalize])
val_transforms = Compose([Resize(size), CenterCrop(size), ToTensor(), normalize])


def preprocess_train(batch):
    batch["pixel_values"] = [train_transforms(img.convert("RGB")) for img in batch["image"]]
    return batch


def preprocess_val(batch):
    batch["pixel_values"] = [val_transforms(img.convert("RGB")) for img in batch["image"]]
    return batch


dataset["train"].set_transform(preprocess_train)
dataset["validation"].set_transform(preprocess_val)

metric = evaluate.load("accuracy")


def compute_metrics(p):
    return metric.compute(predictions=np.argmax(p.predictions, axis=1), references=p.label_ids)


def collate_fn(examples):
    pixel_values = torch.stack([example["pixel_values"] for example in examples])
    labels = torch.tensor([example["label"] for example in examples])
    return {"pixel_values": pixel_values, "labels": labels}


model = AutoModelForImageClassification.from_pretrained(
    model_name,
    num_labels=len(labels),
    label2id=label2id,
    id2label=id2label,
    ignore_mismatched_sizes=True,
)
args = TrainingArguments(
    output_dir="vit-beans",
    remove_unused_columns=False,
    eval_strategy="epoch",
    save_strategy="epoch",
    learning_rate=2e-5,
    per_device_train_batch_size=32,
    per_device_eval_batch_size=32,
    num_train_epochs=5,
    warmup_ratio=0.1,
    logging_steps=10,
    load_best_model_at_end=True,
    metric_for_best_model="accuracy",
    seed=1337,
)
trainer = Trainer(
    model=model,
    args=args,
    train_dataset=dataset["train"],
    eval_dataset=dataset["validation"],
    compute_metrics=compute_metrics,
    processing_class=image_processor,
    data_collator=collate_fn,
)
train_results = trainer.train()
trainer.save_model()
trainer.log_metrics("train", train_results.metrics)
metrics = trainer.evaluate()
trainer.log_metrics("eval", metrics)
