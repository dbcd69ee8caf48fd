import os
import argparse
import math
import torch
import torchvision
from torch.utils.tensorboard import SummaryWriter
from torchvision.transforms import ToTensor, Compose, Normalize
from tqdm import tqdm

from model import *
from utils import setup_seed

if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--seed', type=int, default=42)
    parser.add_argument('--batch_size', type=int, default=1024)
    parser.add_argument('--max_device_batch_size', type=int, default=256)
    parser.add_argument('--base_learning_rate', type=float, default=1e-3)
    parser.add_argument('--weight_decay', type=float, default=0.05)
    parser.add_argument('--total_epoch', type=int, default=100)
    parser.add_argument('--warmup_epoch', type=int, default=5)
    parser.add_argument('--pretrained_model_path', type=str, default=None)
    parser.add_argument('--output_model_path', type=str, default='vit-t-classifier.pt')
    args = parser.parse_args()

    setup_seed(args.seed)
    accum = args.batch_size // args.max_device_batch_size

    tf = Compose([ToTensor(), Normalize(0.5, 0.5)])
    train_set = torchvision.datasets.CIFAR10('data', train=True, download=True, transform=tf)
    val_set = torchvision.datasets.CIFAR10('data', train=False, download=True, transform=tf)
    train_loader = torch.utils.data.DataLoader(train_set, args.max_device_batch_size, shuffle=True, num_workers=4)
    val_loader = torch.utils.data.DataLoader(val_set, args.max_device_batch_size, shuffle=False, num_workers=4)
    device = 'cuda' if torch.cuda.is_available() else 'cpu'

    pretrained = torch.load(args.pretrained_model_path, map_location='cpu')
    writer = SummaryWriter(os.path.join('logs', 'cifar10', 'pretrain-cls'))
    model = ViT_Classifier(pretrained.encoder, num_classes=10).to(device)

    loss_fn = torch.nn.CrossEntropyLoss()
    acc_fn = lambda logit, label: torch.mean((logit.argmax(dim=-1) == label).float())
    optim = torch.optim.AdamW(model.parameters(), lr=args.base_learning_rate * args.batch_size / 256,
                              betas=(0.9, 0.999), weight_decay=args.weight_decay)
    lr_func = lambda ep: min((ep + 1) / (args.warmup_epoch + 1e-8), 0.5 * (math.cos(ep / args.total_epoch * math.pi) + 1))
    sched = torch.optim.lr_scheduler.LambdaLR(optim, lr_lambda=lr_func)

    best = 0
    step = 0
    optim.zero_grad()
    for e in range(args.total_epoch):
        model.train()
        tl, ta = [], []
        for img, label in tqdm(iter(train_loader)):
            step += 1
            img, label = img.to(device), label.to(device)
            logits = model(img)
            loss = loss_fn(logits, label)
            loss.backward()
            if step % accum == 0:
                optim.step()
                optim.zero_grad()
            tl.append(loss.item())
            ta.append(acc_fn(logits, label).item())
        sched.step()

        model.eval()
        with torch.no_grad():
            vl, va = [], []
            for img, label in tqdm(iter(val_loader)):
                img, label = img.to(device), label.to(device)
                logits = model(img)
                vl.append(loss_fn(logits, label).item())
                va.append(acc_fn(logits, label).item())
        train_loss, val_loss = sum(tl) / len(tl), sum(vl) / len(vl)
        val_acc = sum(va) / len(va)
        print(f'epoch {e}: train loss {train_loss}, val loss {val_loss}, val acc {val_acc}')
        if val_acc > best:
            best = val_acc
            torch.save(model, args.output_model_path)
        writer.add_scalars('cls/loss', {'train': train_loss, 'val': val_loss}, global_step=e)
