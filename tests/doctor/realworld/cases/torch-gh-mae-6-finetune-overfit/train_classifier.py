import argparse
import math
import os

import torch
import torchvision
from torch.utils.tensorboard import SummaryWriter
from torchvision.transforms import Compose, Normalize, ToTensor
from tqdm import tqdm

from model import *
from utils import setup_seed

if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--batch_size', type=int, default=256)
    parser.add_argument('--max_device_batch_size', type=int, default=256)
    parser.add_argument('--base_learning_rate', type=float, default=1e-3)
    parser.add_argument('--weight_decay', type=float, default=0.05)
    parser.add_argument('--total_epoch', type=int, default=80)
    parser.add_argument('--warmup_epoch', type=int, default=5)
    parser.add_argument('--pretrained_model_path', type=str, default=None)
    parser.add_argument('--output_model_path', type=str, default='vit-t-cls.pt')
    args = parser.parse_args()

    setup_seed(args.seed)

    device_batch = min(args.max_device_batch_size, args.batch_size)
    assert args.batch_size % device_batch == 0
    accum_steps = args.batch_size // device_batch

    tf = Compose([ToTensor(), Normalize(0.5, 0.5)])
    train_set = torchvision.datasets.CIFAR10('data', train=True, download=True, transform=tf)
    val_set = torchvision.datasets.CIFAR10('data', train=False, download=True, transform=tf)
    train_loader = torch.utils.data.DataLoader(train_set, device_batch, shuffle=True, num_workers=4)
    val_loader = torch.utils.data.DataLoader(val_set, device_batch, shuffle=False, num_workers=4)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'

    if args.pretrained_model_path is None:
        mae = MAE_ViT()
        run_dir = os.path.join('runs', 'cls-scratch')
    else:
        mae = torch.load(args.pretrained_model_path, map_location='cpu')
        run_dir = os.path.join('runs', 'cls-pretrained')
    writer = SummaryWriter(run_dir)
    model = ViT_Classifier(mae.encoder, num_classes=10).to(device)

    criterion = torch.nn.CrossEntropyLoss()

    def accuracy(logits, y):
        return (logits.argmax(dim=-1) == y).float().mean()

    optimizer = torch.optim.AdamW(model.parameters(), lr=args.base_learning_rate * args.batch_size / 256,
                                  betas=(0.9, 0.999), weight_decay=args.weight_decay)
    warmup_cosine = lambda ep: min((ep + 1) / (args.warmup_epoch + 1e-8),
                                   0.5 * (math.cos(ep / args.total_epoch * math.pi) + 1))
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lr_lambda=warmup_cosine)

    best_acc = 0
    step = 0
    optimizer.zero_grad()
    for epoch in range(args.total_epoch):
        model.train()
        tr_loss, tr_acc = [], []
        for x, y in tqdm(train_loader):
            step += 1
            x, y = x.to(device), y.to(device)
            logits = model(x)
            loss = criterion(logits, y)
            loss.backward()
            if step % accum_steps == 0:
                optimizer.step()
                optimizer.zero_grad()
            tr_loss.append(loss.item())
            tr_acc.append(accuracy(logits, y).item())
        scheduler.step()
        train_loss = sum(tr_loss) / len(tr_loss)
        train_acc = sum(tr_acc) / len(tr_acc)
        print(f'epoch {epoch}: train loss {train_loss:.4f}, train acc {train_acc:.4f}')

        model.eval()
        with torch.no_grad():
            va_loss, va_acc = [], []
            for x, y in tqdm(val_loader):
                x, y = x.to(device), y.to(device)
                logits = model(x)
                va_loss.append(criterion(logits, y).item())
                va_acc.append(accuracy(logits, y).item())
            val_loss = sum(va_loss) / len(va_loss)
            val_acc = sum(va_acc) / len(va_acc)
            print(f'epoch {epoch}: val loss {val_loss:.4f}, val acc {val_acc:.4f}')

        if val_acc > best_acc:
            best_acc = val_acc
            print(f'new best val acc {best_acc:.4f} at epoch {epoch}, saving')
            torch.save(model, args.output_model_path)

        writer.add_scalars('cls/loss', {'train': train_loss, 'val': val_loss}, global_step=epoch)
        writer.add_scalars('cls/acc', {'train': train_acc, 'val': val_acc}, global_step=epoch)
