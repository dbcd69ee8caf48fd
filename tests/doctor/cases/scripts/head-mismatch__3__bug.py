import torch
from torch import nn
from torchvision import models

model = models.vgg16(weights="IMAGENET1K_V1")  # expect: head-mismatch
for p in model.features.parameters():
    p.requires_grad = False
model.classifier = nn.Sequential(
    nn.Linear(4096, 1024), nn.ReLU(), nn.Dropout(0.5), nn.Linear(1024, 102)  # expect: head-mismatch
)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.classifier.parameters(), lr=1e-3)
for images, labels in train_loader:
    optimizer.zero_grad()
    loss = criterion(model(images), labels)
    loss.backward()
    optimizer.step()
