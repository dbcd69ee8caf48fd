import torch
import torch.nn as nn
from torchvision import models

model = models.resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V2)
for p in model.parameters():
    p.requires_grad = False
model.fc = nn.Linear(model.fc.in_features, 37)
optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-3)
criterion = nn.CrossEntropyLoss()


def run_epoch(loader):
    model.train()
    for images, labels in loader:
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()


train_loader = torch.utils.data.DataLoader(torch.load("pets_train.pt"), batch_size=32, shuffle=True)
for epoch in range(3):
    run_epoch(train_loader)

# stage 2: unfreeze the last block
for p in model.layer4.parameters():
    p.requires_grad = True
optimizer = torch.optim.Adam([
    {"params": model.layer4.parameters(), "lr": 1e-5},
    {"params": model.fc.parameters(), "lr": 1e-4},
])
for epoch in range(10):
    run_epoch(train_loader)
