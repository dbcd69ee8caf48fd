import argparse

import torch
import torchvision
from torch.utils.data import DataLoader

from data_events import EventFolders
from utils_loader import collate_events

parser = argparse.ArgumentParser()
parser.add_argument("--train_root", default="nc101/train")
parser.add_argument("--val_root", default="nc101/validation")
parser.add_argument("--epochs", type=int, default=25)
parser.add_argument("--batch", type=int, default=8)
flags = parser.parse_args()

train_set = EventFolders(flags.train_root, augment=True)
val_set = EventFolders(flags.val_root)
train_loader = DataLoader(train_set, batch_size=flags.batch, shuffle=True, collate_fn=collate_events)
val_loader = DataLoader(val_set, batch_size=flags.batch, collate_fn=collate_events)

net = torchvision.models.resnet34(pretrained=True)
net.fc = torch.nn.Linear(net.fc.in_features, 101)
net = net.cuda()
opt = torch.optim.Adam(net.parameters(), lr=1e-4)
crit = torch.nn.CrossEntropyLoss()

for epoch in range(flags.epochs):
    net.train()
    for voxels, labels in train_loader:
        voxels, labels = voxels.cuda(), labels.cuda()
        opt.zero_grad()
        loss = crit(net(voxels), labels)
        loss.backward()
        opt.step()

    net.eval()
    hit, seen = 0, 0
    with torch.no_grad():
        for voxels, labels in val_loader:
            pred = net(voxels.cuda()).argmax(1).cpu()
            hit += (pred == labels).sum().item()
            seen += len(labels)
    print(f"epoch {epoch} val acc {hit / seen:.4f}")
