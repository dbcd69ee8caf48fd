"""Fine-tune a DenseNet-121 on chest X-rays; options from the command line."""
from argparse import ArgumentParser

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

ap = ArgumentParser()
ap.add_argument("--root", default="xray/train")
ap.add_argument("--bs", type=int, default=32)
ap.add_argument("--lr", type=float, default=1e-4)
hp = ap.parse_args()

tf = transforms.Compose([
    transforms.RandomResizedCrop(224),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])
feed = DataLoader(datasets.ImageFolder(hp.root, tf), batch_size=hp.bs, shuffle=True)

cnn = models.densenet121(weights="IMAGENET1K_V1")
cnn.classifier = nn.Linear(cnn.classifier.in_features, 2)
opt = torch.optim.Adam([
    {"params": cnn.features.parameters(), "lr": hp.lr / 10},
    {"params": cnn.classifier.parameters(), "lr": hp.lr},
])
crit = nn.CrossEntropyLoss()
cnn.train()
for epoch in range(10):
    for x, y in feed:
        opt.zero_grad()
        crit(cnn(x), y).backward()
        opt.step()
