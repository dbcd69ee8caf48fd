"""Image classification fine-tuning without the Trainer: an Accelerate loop with a linear
warm-up schedule and evaluation in eval mode after each epoch."""
import math

import evaluate
import torch
from accelerate import Accelerator
from datasets import load_dataset
from torch.utils.data import DataLoader
from torchvision.transforms import (
    CenterCrop, Compose, Normalize, RandomResizedCrop, RandomHorizontalFlip, Resize, ToTensor,
)
from transformers import AutoImageProcessor, AutoModelForImageClassification, get_scheduler

model_name = "microsoft/resnet-50"
num_train_epochs = 3
per_device_batch_size = 32
learning_rate = 5e-5

accelerator = Accelerator()
dataset = load_dataset("imagefolder", data_dir="food_images")
split = dataset["train"].train_test_split(0.1, seed=0)
dataset["train"], dataset["validation"] = split["train"], split["test"]
labels = dataset["train"].features["label"].names

image_processor = AutoImageProcessor.from_pretrained(model_name)
model = AutoModelForImageClassification.from_pretrained(
    model_name,
    num_labels=len(labels),
    id2label={i: l for i, l in enumerate(labels)},
    label2id={l: i for i, l in enumerate(labels)},
    ignore_mismatched_sizes=True,
)
size = image_processor.size.get("shortest_edge", 224)
normalize = Normalize(mean=image_processor.image_mean, std=image_processor.image_std)
train_tf = Compose([RandomResizedCrop(size), RandomHorizontalFlip(), ToTensor(), normalize])
val_tf = Compose([Resize(size), CenterCrop(size), ToTensor(), normalize])

with accelerator.main_process_first():
    train_ds = dataset["train"].with_transform(
        lambda b: {"pixel_values": [train_tf(i.convert("RGB")) for i in b["image"]], "labels": b["label"]}
    )
    eval_ds = dataset["validation"].with_transform(
        lambda b: {"pixel_values": [val_tf(i.convert("RGB")) for i in b["image"]], "labels": b["label"]}
    )


def collate_fn(examples):
    return {
        "pixel_values": torch.stack([e["pixel_values"] for e in examples]),
        "labels": torch.tensor([e["labels"] for e in examples]),
    }


train_dataloader = DataLoader(train_ds, shuffle=True, collate_fn=collate_fn, batch_size=per_device_batch_size)
eval_dataloader = DataLoader(eval_ds, collate_fn=collate_fn, batch_size=per_device_batch_size)

no_decay = ["bias", "LayerNorm.weight"]
grouped = [
    {"params": [p for n, p in model.named_parameters() if not any(nd in n for nd in no_decay)], "weight_decay": 0.01},
    {"params": [p for n, p in model.named_parameters() if any(nd in n for nd in no_decay)], "weight_decay": 0.0},
]
optimizer = torch.optim.AdamW(grouped, lr=learning_rate)
max_train_steps = num_train_epochs * math.ceil(len(train_dataloader))
lr_scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=max_train_steps // 10,
                             num_training_steps=max_train_steps)
model, optimizer, train_dataloader, eval_dataloader, lr_scheduler = accelerator.prepare(
    model, optimizer, train_dataloader, eval_dataloader, lr_scheduler
)
metric = evaluate.load("accuracy")

for epoch in range(num_train_epochs):
    model.train()
    for batch in train_dataloader:
        outputs = model(**batch)
        accelerator.backward(outputs.loss)
        optimizer.step()
        lr_scheduler.step()
        optimizer.zero_grad()

    model.eval()
    for batch in eval_dataloader:
        with torch.no_grad():
            outputs = model(**batch)
        predictions = outputs.logits.argmax(dim=-1)
        predictions, references = accelerator.gather_for_metrics((predictions, batch["labels"]))
        metric.add_batch(predictions=predictions, references=references)
    accelerator.print(f"epoch {epoch}: {metric.compute()}")

accelerator.wait_for_everyone()
accelerator.unwrap_model(model).save_pretrained("resnet50-food", save_function=accelerator.save)
