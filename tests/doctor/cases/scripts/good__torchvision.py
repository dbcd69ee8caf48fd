"""Fine-tune a pretrained ResNet-50 on a class-per-folder dataset (torchvision)."""

import os
import time

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

DATA_DIR = "data/hymenoptera"
NUM_EPOCHS = 15
device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

normalize = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
train_transform = transforms.Compose(
    [
        transforms.RandomResizedCrop(224),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        normalize,
    ]
)
val_transform = transforms.Compose(
    [
        transforms.Resize(256),
        transforms.CenterCrop(224),
        transforms.ToTensor(),
        normalize,
    ]
)

train_set = datasets.ImageFolder(os.path.join(DATA_DIR, "train"), train_transform)
val_set = datasets.ImageFolder(os.path.join(DATA_DIR, "val"), val_transform)
train_loader = DataLoader(train_set, batch_size=32, shuffle=True, num_workers=4)
val_loader = DataLoader(val_set, batch_size=64, shuffle=False, num_workers=4)
class_names = train_set.classes

model = models.resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V2)
model.fc = nn.Linear(model.fc.in_features, len(class_names))
model = model.to(device)

criterion = nn.CrossEntropyLoss()
backbone = [p for name, p in model.named_parameters() if not name.startswith("fc.")]
optimizer = torch.optim.SGD(
    [
        {"params": backbone, "lr": 1e-3},
        {"params": model.fc.parameters(), "lr": 1e-2},
    ],
    momentum=0.9,
    weight_decay=1e-4,
)
scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=NUM_EPOCHS)


def train_one_epoch(model, loader):
    model.train()
    running = 0.0
    for inputs, labels in loader:
        inputs, labels = inputs.to(device), labels.to(device)
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = criterion(outputs, labels)
        loss.backward()
        optimizer.step()
        running += loss.item() * inputs.size(0)
    return running / len(loader.dataset)


def evaluate(model, loader):
    model.eval()
    correct = 0
    with torch.no_grad():
        for inputs, labels in loader:
            inputs, labels = inputs.to(device), labels.to(device)
            outputs = model(inputs)
            correct += (outputs.argmax(1) == labels).sum().item()
    return correct / len(loader.dataset)


best_acc = 0.0
for epoch in range(NUM_EPOCHS):
    since = time.time()
    train_loss = train_one_epoch(model, train_loader)
    val_acc = evaluate(model, val_loader)
    scheduler.step()
    print(f"epoch {epoch}: loss {train_loss:.4f} val acc {val_acc:.4f} ({time.time() - since:.0f}s)")
    if val_acc > best_acc:
        best_acc = val_acc
        torch.save(model.state_dict(), "best.pt")
