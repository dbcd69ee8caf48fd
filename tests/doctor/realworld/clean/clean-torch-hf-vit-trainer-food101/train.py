"""Fine-tune ViT on a Food-101 subset with the Hugging Face Trainer.

Image size, mean and std come from the checkpoint's image processor; random crops and flips
are applied to the training split only.
"""
import evaluate
import numpy as np
from datasets import load_dataset
from torchvision.transforms import CenterCrop, Compose, Normalize, RandomHorizontalFlip, RandomResizedCrop, Resize, ToTensor
from transformers import (
    AutoImageProcessor,
    AutoModelForImageClassification,
    DefaultDataCollator,
    Trainer,
    TrainingArguments,
)

CHECKPOINT = "google/vit-base-patch16-224-in21k"

food = load_dataset("food101", split="train[:5000]")
food = food.train_test_split(test_size=0.2, seed=0)
labels = food["train"].features["label"].names
label2id = {name: str(i) for i, name in enumerate(labels)}
id2label = {str(i): name for i, name in enumerate(labels)}

processor = AutoImageProcessor.from_pretrained(CHECKPOINT)
normalize = Normalize(mean=processor.image_mean, std=processor.image_std)
size = processor.size["shortest_edge"] if "shortest_edge" in processor.size else (
    processor.size["height"], processor.size["width"])
train_tf = Compose([RandomResizedCrop(size), RandomHorizontalFlip(), ToTensor(), normalize])
eval_tf = Compose([Resize(size), CenterCrop(size), ToTensor(), normalize])


def train_transforms(batch):
    batch["pixel_values"] = [train_tf(img.convert("RGB")) for img in batch["image"]]
    del batch["image"]
    return batch


def eval_transforms(batch):
    batch["pixel_values"] = [eval_tf(img.convert("RGB")) for img in batch["image"]]
    del batch["image"]
    return batch


food["train"].set_transform(train_transforms)
food["test"].set_transform(eval_transforms)

accuracy = evaluate.load("accuracy")


def compute_metrics(eval_pred):
    logits, refs = eval_pred
    return accuracy.compute(predictions=np.argmax(logits, axis=1), references=refs)


model = AutoModelForImageClassification.from_pretrained(
    CHECKPOINT, num_labels=len(labels), id2label=id2label, label2id=label2id
)

args = TrainingArguments(
    output_dir="vit_food101",
    remove_unused_columns=False,
    eval_strategy="epoch",
    save_strategy="epoch",
    learning_rate=5e-5,
    per_device_train_batch_size=16,
    gradient_accumulation_steps=4,
    per_device_eval_batch_size=16,
    num_train_epochs=3,
    warmup_ratio=0.1,
    logging_steps=10,
    load_best_model_at_end=True,
    metric_for_best_model="accuracy",
)

trainer = Trainer(
    model=model,
    args=args,
    data_collator=DefaultDataCollator(),
    train_dataset=food["train"],
    eval_dataset=food["test"],
    processing_class=processor,
    compute_metrics=compute_metrics,
)
trainer.train()
print(trainer.evaluate())
