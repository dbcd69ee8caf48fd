"""Classification training in the style of a reference recipe: one function per phase, the model
passed in as a parameter, AMP, label smoothing, warm-up then cosine schedule."""
import argparse
import time

import torch
import torch.nn as nn
import torchvision
from torch.utils.data import DataLoader
from torchvision.transforms import v2 as T


def accuracy(output, target, topk=(1,)):
    with torch.inference_mode():
        maxk = max(topk)
        batch_size = target.size(0)
        _, pred = output.topk(maxk, 1, True, True)
        pred = pred.t()
        correct = pred.eq(target[None])
        return [correct[:k].flatten().sum(dtype=torch.float32) * (100.0 / batch_size) for k in topk]


def train_one_epoch(model, criterion, optimizer, data_loader, device, epoch, scaler=None):
    model.train()
    start = time.time()
    for i, (image, target) in enumerate(data_loader):
        image, target = image.to(device), target.to(device)
        with torch.autocast(device.type, enabled=scaler is not None):
            output = model(image)
            loss = criterion(output, target)
        optimizer.zero_grad()
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        if i % 50 == 0:
            acc1, acc5 = accuracy(output, target, topk=(1, 5))
            print(f"Epoch [{epoch}] [{i}/{len(data_loader)}] loss {loss.item():.4f} "
                  f"acc1 {acc1.item():.2f} acc5 {acc5.item():.2f} {time.time() - start:.0f}s")


def evaluate(model, criterion, data_loader, device):
    model.eval()
    total, loss_sum, correct1 = 0, 0.0, 0.0
    with torch.inference_mode():
        for image, target in data_loader:
            image, target = image.to(device, non_blocking=True), target.to(device, non_blocking=True)
            output = model(image)
            loss_sum += criterion(output, target).item() * image.size(0)
            correct1 += accuracy(output, target)[0].item() * image.size(0) / 100.0
            total += image.size(0)
    print(f"Test: loss {loss_sum / total:.4f} Acc@1 {100.0 * correct1 / total:.3f}")
    return correct1 / total


def main(args):
    device = torch.device(args.device)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    train_tf = T.Compose([T.RandomResizedCrop(args.train_crop_size), T.RandomHorizontalFlip(),
                          T.PILToTensor(), T.ToDtype(torch.float, scale=True), T.Normalize(mean, std)])
    val_tf = T.Compose([T.Resize(args.val_resize_size), T.CenterCrop(args.val_crop_size),
                        T.PILToTensor(), T.ToDtype(torch.float, scale=True), T.Normalize(mean, std)])
    dataset = torchvision.datasets.ImageFolder(f"{args.data_path}/train", train_tf)
    dataset_test = torchvision.datasets.ImageFolder(f"{args.data_path}/val", val_tf)
    data_loader = DataLoader(dataset, batch_size=args.batch_size, shuffle=True,
                             num_workers=args.workers, pin_memory=True, drop_last=True)
    data_loader_test = DataLoader(dataset_test, batch_size=args.batch_size, shuffle=False,
                                  num_workers=args.workers, pin_memory=True)

    model = torchvision.models.get_model(args.model, weights=args.weights)
    model.fc = nn.Linear(model.fc.in_features, len(dataset.classes))
    model.to(device)

    criterion = nn.CrossEntropyLoss(label_smoothing=args.label_smoothing)
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9, weight_decay=args.wd)
    warmup = torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=0.01, total_iters=args.warmup_epochs)
    cosine = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs - args.warmup_epochs)
    lr_scheduler = torch.optim.lr_scheduler.SequentialLR(optimizer, [warmup, cosine], milestones=[args.warmup_epochs])
    scaler = torch.amp.GradScaler("cuda") if args.amp else None

    best = 0.0
    for epoch in range(args.epochs):
        train_one_epoch(model, criterion, optimizer, data_loader, device, epoch, scaler)
        lr_scheduler.step()
        acc = evaluate(model, criterion, data_loader_test, device)
        if acc > best:
            best = acc
            torch.save({"model": model.state_dict(), "epoch": epoch, "classes": dataset.classes},
                       f"{args.output_dir}/model_best.pth")
    print(f"best Acc@1 {100 * best:.2f}")


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--data-path", default="/datasets/imagenette")
    p.add_argument("--model", default="resnet50")
    p.add_argument("--weights", default="IMAGENET1K_V2")
    p.add_argument("--device", default="cuda")
    p.add_argument("-b", "--batch-size", default=32, type=int)
    p.add_argument("--epochs", default=30, type=int)
    p.add_argument("-j", "--workers", default=8, type=int)
    p.add_argument("--lr", default=0.01, type=float)
    p.add_argument("--wd", default=1e-4, type=float)
    p.add_argument("--label-smoothing", default=0.1, type=float)
    p.add_argument("--warmup-epochs", default=2, type=int)
    p.add_argument("--train-crop-size", default=224, type=int)
    p.add_argument("--val-resize-size", default=256, type=int)
    p.add_argument("--val-crop-size", default=224, type=int)
    p.add_argument("--amp", action="store_true")
    p.add_argument("--output-dir", default=".")
    main(p.parse_args())
