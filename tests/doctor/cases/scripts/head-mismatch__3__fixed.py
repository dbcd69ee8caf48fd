import torch
from torch import nn
from torchvision import models

model = models.vgg16(weights="IMAGENET1K_V1")
for p in model.features.parameters():
    p.requires_grad = False
# the whole classifier is replaced: it reads the flattened 512x7x7 features
model.classifier = nn.Sequential(
    nn.Linear(25088, 4096), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4096, 102)
)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.classifier.parameters(), lr=1e-3)
for images, labels in train_loader:
    optimizer.zero_grad()
    loss = criterion(model(images), labels)
    loss.backward()
    optimizer.step()
