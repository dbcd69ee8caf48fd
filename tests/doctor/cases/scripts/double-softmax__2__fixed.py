import timm
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder
from timm.data import create_transform, resolve_data_config


class Classifier(nn.Module):
    def __init__(self, num_classes=12):
        super().__init__()
        self.backbone = timm.create_model("resnet50", pretrained=True, num_classes=0)
        self.dropout = nn.Dropout(0.2)
        self.fc = nn.Linear(self.backbone.num_features, num_classes)

    def forward(self, x):
        x = self.backbone(x)
        x = self.fc(self.dropout(x))
        return x  # logits


model = Classifier()
cfg = resolve_data_config({}, model=model.backbone)
train_ds = ImageFolder("plant_seedlings/train", transform=create_transform(**cfg, is_training=True))
train_loader = DataLoader(train_ds, batch_size=32, shuffle=True)
optimizer = torch.optim.AdamW([
    {"params": model.backbone.parameters(), "lr": 1e-5},
    {"params": model.fc.parameters(), "lr": 1e-3},
])

for epoch in range(8):
    model.train()
    for images, targets in train_loader:
        probs = model(images)
        loss = F.cross_entropy(probs, targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
