"""Fine-grained birds: a ResNet-50 backbone with a small projection head. The head's
normalisation and dropout are submodules (or follow the module's mode)."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torchvision import models


class BirdNet(nn.Module):
    def __init__(self, num_classes=200):
        super().__init__()
        backbone = models.resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V2)
        self.features = nn.Sequential(*list(backbone.children())[:-1])
        self.proj = nn.Linear(2048, 512)
        self.bn = nn.BatchNorm1d(512)
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x):
        x = torch.flatten(self.features(x), 1)
        x = self.bn(self.proj(x))
        x = F.relu(x)
        if self.training:
            x = nn.Dropout(0.2)(x)  # training only: dropout made here is right
        return self.fc(x)


class Head(nn.Module):
    def __init__(self, dim, num_classes):
        super().__init__()
        self.fc = nn.Linear(dim, num_classes)

    def forward(self, x):
        return self.fc(F.dropout(x, p=0.3, training=self.training))


def evaluate(model, loader, device):
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in loader:
            preds = model(images.to(device)).argmax(1)
            correct += (preds.cpu() == labels).sum().item()
            total += labels.numel()
    return correct / total
