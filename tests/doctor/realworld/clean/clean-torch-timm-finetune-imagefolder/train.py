"""Fine-tune a timm model on an ImageFolder dataset with the transforms that match its
pretrained configuration."""
import argparse

import timm
import torch
from timm.data import create_transform, resolve_data_config
from timm.loss import LabelSmoothingCrossEntropy
from timm.optim import create_optimizer_v2
from timm.scheduler import CosineLRScheduler
from timm.utils import AverageMeter, accuracy
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder


def train_one_epoch(model, loader, loss_fn, optimizer, device):
    model.train()
    losses = AverageMeter()
    for images, targets in loader:
        images, targets = images.to(device), targets.to(device)
        loss = loss_fn(model(images), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.update(loss.item(), images.size(0))
    return losses.avg


@torch.no_grad()
def validate(model, loader, device):
    model.eval()
    top1 = AverageMeter()
    for images, targets in loader:
        images, targets = images.to(device), targets.to(device)
        acc1, = accuracy(model(images), targets, topk=(1,))
        top1.update(acc1.item(), images.size(0))
    return top1.avg


def main():
    p = argparse.ArgumentParser()
    p.add_argument("data")
    p.add_argument("--model", default="convnext_tiny.fb_in22k")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--lr", type=float, default=5e-4)
    p.add_argument("--batch-size", type=int, default=64)
    args = p.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    train_set = ImageFolder(f"{args.data}/train")
    model = timm.create_model(args.model, pretrained=True, num_classes=len(train_set.classes))
    config = resolve_data_config({}, model=model)
    train_set.transform = create_transform(**config, is_training=True, auto_augment="rand-m9-mstd0.5")
    val_set = ImageFolder(f"{args.data}/val", transform=create_transform(**config))
    assert val_set.class_to_idx == train_set.class_to_idx

    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, num_workers=8, drop_last=True)
    val_loader = DataLoader(val_set, batch_size=args.batch_size * 2, shuffle=False, num_workers=8)

    model.to(device)
    optimizer = create_optimizer_v2(model, opt="adamw", lr=args.lr, weight_decay=0.05)
    scheduler = CosineLRScheduler(optimizer, t_initial=args.epochs, warmup_t=1, warmup_lr_init=1e-6)
    loss_fn = LabelSmoothingCrossEntropy(smoothing=0.1)

    best = 0.0
    for epoch in range(args.epochs):
        train_loss = train_one_epoch(model, train_loader, loss_fn, optimizer, device)
        scheduler.step(epoch + 1)
        top1 = validate(model, val_loader, device)
        print(f"epoch {epoch} train_loss {train_loss:.4f} val_top1 {top1:.2f}")
        if top1 > best:
            best = top1
            torch.save(model.state_dict(), "best.pth")
    print(f"best top1 {best:.2f}")


if __name__ == "__main__":
    main()
