import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

weights = models.ResNet101_Weights.IMAGENET1K_V2
train_ds = datasets.ImageFolder("xray/train", transform=weights.transforms())
val_ds = datasets.ImageFolder("xray/val", transform=weights.transforms())
train_loader = DataLoader(train_ds, batch_size=16, shuffle=True)
val_loader = DataLoader(val_ds, batch_size=16)

model = models.resnet101(weights=weights)  # expect: learning-rate
model.fc = nn.Linear(model.fc.in_features, 2)
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.parameters(), lr=0.001)  # expect: learning-rate

for epoch in range(25):
    model.train()
    for inputs, labels in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(inputs), labels)
        loss.backward()
        optimizer.step()
    model.eval()
    with torch.no_grad():
        acc = sum((model(x).argmax(1) == y).sum().item() for x, y in val_loader) / len(val_ds)
    print(epoch, acc)
