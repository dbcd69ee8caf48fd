"""ImageNet-style fine-tuning of ResNet-50 on a folder with train/ and val/ inside."""
import argparse
import os

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

p = argparse.ArgumentParser()
p.add_argument("data")
p.add_argument("--quick", action="store_true", help="no resize margin at evaluation")
a = p.parse_args()

norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
t1 = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
                         transforms.ToTensor(), norm])
if a.quick:
    t2 = transforms.Compose([transforms.Resize(224), transforms.CenterCrop(224),
                             transforms.ToTensor(), norm])
else:
    t2 = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224),
                             transforms.ToTensor(), norm])
d1 = datasets.ImageFolder(os.path.join(a.data, "train"), t1)
d2 = datasets.ImageFolder(os.path.join(a.data, "val"), t2)
l1 = DataLoader(d1, batch_size=64, shuffle=True)
l2 = DataLoader(d2, batch_size=64)

m = models.resnet50(weights="IMAGENET1K_V2")
m.fc = nn.Linear(2048, len(d1.classes))
o = torch.optim.SGD([{"params": m.fc.parameters(), "lr": 0.01}], momentum=0.9)
for p_ in m.parameters():
    p_.requires_grad = False
for p_ in m.fc.parameters():
    p_.requires_grad = True
for k in range(10):
    m.train()
    for x, y in l1:
        o.zero_grad()
        nn.functional.cross_entropy(m(x), y).backward()
        o.step()
    m.eval()
    with torch.no_grad():
        acc = sum((m(x).argmax(1) == y).sum().item() for x, y in l2) / len(d2)
    print(k, acc)
