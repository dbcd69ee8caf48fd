import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import models

NUM_CLASSES = 4
model = models.resnet18(weights="IMAGENET1K_V1")
model.fc = nn.Linear(model.fc.in_features, NUM_CLASSES)
criterion = nn.BCEWithLogitsLoss()  # expect: binary-loss-multiclass
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)

for epoch in range(10):
    model.train()
    for images, labels in train_loader:
        targets = F.one_hot(labels, NUM_CLASSES).float()  # expect: binary-loss-multiclass
        logits = model(images)
        loss = criterion(logits, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        acc = ((torch.sigmoid(logits) > 0.5).float() == targets).float().mean()
