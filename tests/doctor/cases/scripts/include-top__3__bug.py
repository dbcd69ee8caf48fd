import torch
import torch.nn as nn
from torchvision import models

backbone = models.resnet50(weights=models.ResNet50_Weights.DEFAULT)  # expect: include-top
model = nn.Sequential(
    backbone,
    nn.ReLU(),
    nn.Linear(1000, 10),  # expect: include-top
)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
