import argparse
import random
import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader

from nets.r3d import R3DNet
from datasets.actions import ActionClips


def set_seed(s):
    random.seed(s); np.random.seed(s); torch.manual_seed(s); torch.cuda.manual_seed_all(s)


parser = argparse.ArgumentParser()
parser.add_argument("--ckpt", required=True)
parser.add_argument("--classes", type=int, default=101)
parser.add_argument("--epochs", type=int, default=150)
parser.add_argument("--lr", type=float, default=1e-3)
parser.add_argument("--bs", type=int, default=16)
args = parser.parse_args()
set_seed(632)

model = R3DNet(layer_sizes=(1, 1, 1, 1), with_classifier=True, num_classes=args.classes)
state = torch.load(args.ckpt, map_location="cpu")
# self-supervised checkpoint: {'epoch':..., 'model': encoder.state_dict() of the contrastive wrapper}
model.load_state_dict(state["model"], strict=False)
model = model.cuda()

train_dl = DataLoader(ActionClips("train", clip_len=16), batch_size=args.bs, shuffle=True, num_workers=8)
val_dl = DataLoader(ActionClips("val", clip_len=16), batch_size=args.bs, num_workers=8)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=5e-4)
scheduler = torch.optim.lr_scheduler.ReduceLROnPlateau(optimizer, "min", patience=10)

best = 0.0
for epoch in range(args.epochs):
    model.train()
    for clips, labels in train_dl:
        clips, labels = clips.cuda(), labels.cuda()
        loss = criterion(model(clips), labels)
        optimizer.zero_grad(); loss.backward(); optimizer.step()
    model.eval()
    correct = total = 0
    val_loss = 0.0
    with torch.no_grad():
        for clips, labels in val_dl:
            out = model(clips.cuda())
            val_loss += criterion(out, labels.cuda()).item()
            correct += (out.argmax(1).cpu() == labels).sum().item(); total += len(labels)
    scheduler.step(val_loss)
    acc = correct / total
    if acc > best:
        best = acc
        torch.save(model.state_dict(), f"ft/best_model_{epoch}.pt")
print("best", best)
# two different pretext checkpoints (--neg repeat / --neg shuffle) -> identical best accuracy and best epoch
