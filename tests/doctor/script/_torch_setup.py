"""A PyTorch fine-tuning preamble the variant tests append their snippets to."""

TORCH_SETUP = """\
import torch, torch.nn as nn, torchvision
from torch.utils.data import DataLoader
from torchvision import datasets, transforms, models
tf = transforms.Compose([transforms.Resize(224), transforms.ToTensor()])
train_ds = datasets.ImageFolder("data/train", tf)
val_ds = datasets.ImageFolder("data/val", tf)
train_loader = DataLoader(train_ds, batch_size=32, shuffle=True)
val_loader = DataLoader(val_ds, batch_size=32)
model = models.resnet50(weights="IMAGENET1K_V2")
model.fc = nn.Linear(model.fc.in_features, 5)
opt = torch.optim.SGD(model.fc.parameters(), lr=1e-3, momentum=0.9)
crit = nn.CrossEntropyLoss()
"""
