"""
ImageNet training / evaluation script for EfficientNet (and torchvision models).
Evaluation has been checked; training is still experimental.
"""

import argparse
import os
import random
import shutil
import time
import warnings

import PIL
import torch
import torch.backends.cudnn as cudnn
import torch.nn as nn
import torch.utils.data
import torchvision.datasets as datasets
import torchvision.models as models
import torchvision.transforms as transforms

from efficientnet_pytorch import EfficientNet

parser = argparse.ArgumentParser(description='ImageNet training')
parser.add_argument('data', metavar='DIR', help='dataset root (train/ and val/)')
parser.add_argument('-a', '--arch', metavar='ARCH', default='resnet18', help='net name')
parser.add_argument('-j', '--workers', default=8, type=int, help='dataloader workers')
parser.add_argument('--epochs', default=90, type=int, help='epochs to run')
parser.add_argument('--start-epoch', default=0, type=int, help='first epoch (for restarts)')
parser.add_argument('-b', '--batch-size', default=128, type=int, help='batch size')
parser.add_argument('--lr', default=0.05, type=float, dest='lr', help='initial learning rate')
parser.add_argument('--momentum', default=0.9, type=float, help='SGD momentum')
parser.add_argument('--wd', default=1e-4, type=float, dest='weight_decay', help='weight decay')
parser.add_argument('-p', '--print-freq', default=50, type=int, help='print every N batches')
parser.add_argument('--resume', default='', type=str, help='checkpoint to resume from')
parser.add_argument('-e', '--evaluate', action='store_true', help='only evaluate on val')
parser.add_argument('--pretrained', action='store_true', help='start from pretrained weights')
parser.add_argument('--seed', default=None, type=int, help='random seed')
parser.add_argument('--gpu', default=None, type=int, help='GPU id')
parser.add_argument('--image_size', default=224, type=int,
                    help='image size')
parser.add_argument('--advprop', default=False, action='store_true', help='weights trained with AdvProp')

best_top1 = 0


def main():
    global best_top1
    args = parser.parse_args()
    if args.seed is not None:
        random.seed(args.seed)
        torch.manual_seed(args.seed)
        cudnn.deterministic = True
        warnings.warn('Seeded run: cuDNN deterministic mode is on and may be slow.')

    if 'efficientnet' in args.arch:
        if args.pretrained:
            net = EfficientNet.from_pretrained(args.arch, advprop=args.advprop)
        else:
            net = EfficientNet.from_name(args.arch)
    else:
        net = models.__dict__[args.arch](pretrained=args.pretrained)
    print("=> net '{}' (pretrained={})".format(args.arch, args.pretrained))

    if args.gpu is not None:
        torch.cuda.set_device(args.gpu)
        net = net.cuda(args.gpu)
    else:
        net = torch.nn.DataParallel(net).cuda()

    loss_fn = nn.CrossEntropyLoss().cuda(args.gpu)
    optimizer = torch.optim.SGD(net.parameters(), args.lr, momentum=args.momentum,
                                weight_decay=args.weight_decay)

    if args.resume and os.path.isfile(args.resume):
        ckpt = torch.load(args.resume)
        args.start_epoch = ckpt['epoch']
        best_top1 = ckpt['best_top1']
        net.load_state_dict(ckpt['state_dict'])
        optimizer.load_state_dict(ckpt['optimizer'])
        print("=> resumed from '{}' (epoch {})".format(args.resume, ckpt['epoch']))

    cudnn.benchmark = True

    if args.advprop:
        norm = transforms.Lambda(lambda img: img * 2.0 - 1.0)
    else:
        norm = transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])

    train_set = datasets.ImageFolder(
        os.path.join(args.data, 'train'),
        transforms.Compose([
            transforms.RandomResizedCrop(224),
            transforms.RandomHorizontalFlip(),
            transforms.ToTensor(),
            norm,
        ]))
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=True,
                                               num_workers=args.workers, pin_memory=True)

    if 'efficientnet' in args.arch:
        image_size = EfficientNet.get_image_size(args.arch)
        val_tf = transforms.Compose([
            transforms.Resize(image_size, interpolation=PIL.Image.BICUBIC),
            transforms.CenterCrop(image_size),
            transforms.ToTensor(),
            norm,
        ])
    else:
        image_size = 224
        val_tf = transforms.Compose([
            transforms.Resize(256),
            transforms.CenterCrop(224),
            transforms.ToTensor(),
            norm,
        ])
    print('Validation image size:', image_size)

    val_loader = torch.utils.data.DataLoader(datasets.ImageFolder(os.path.join(args.data, 'val'), val_tf),
                                             batch_size=args.batch_size, shuffle=False,
                                             num_workers=args.workers, pin_memory=True)

    if args.evaluate:
        validate(val_loader, net, loss_fn, args)
        return

    for epoch in range(args.start_epoch, args.epochs):
        set_lr(optimizer, epoch, args)
        train(train_loader, net, loss_fn, optimizer, epoch, args)
        top1 = validate(val_loader, net, loss_fn, args)

        improved = top1 > best_top1
        best_top1 = max(top1, best_top1)
        save_checkpoint({'epoch': epoch + 1, 'arch': args.arch, 'state_dict': net.state_dict(),
                         'best_top1': best_top1, 'optimizer': optimizer.state_dict()}, improved)


def train(loader, net, loss_fn, optimizer, epoch, args):
    net.train()
    t0 = time.time()
    for i, (x, y) in enumerate(loader):
        if args.gpu is not None:
            x = x.cuda(args.gpu, non_blocking=True)
        y = y.cuda(args.gpu, non_blocking=True)

        logits = net(x)
        loss = loss_fn(logits, y)

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        if i % args.print_freq == 0:
            top1, top5_ = accuracy(logits, y, topk=(1, 5))
            print('epoch {} [{}/{}] loss {:.4f} top1 {:.2f} top5_ {:.2f} ({:.1f}s)'.format(
                epoch, i, len(loader), loss.item(), top1.item(), top5_.item(), time.time() - t0))


def validate(loader, net, loss_fn, args):
    net.eval()
    n, top1, top5 = 0, 0.0, 0.0
    with torch.no_grad():
        for x, y in loader:
            if args.gpu is not None:
                x = x.cuda(args.gpu, non_blocking=True)
            y = y.cuda(args.gpu, non_blocking=True)
            logits = net(x)
            top1, top5_ = accuracy(logits, y, topk=(1, 5))
            top1 += top1.item() * x.size(0)
            top5 += top5_.item() * x.size(0)
            n += x.size(0)
    print(' * Acc@1 {:.3f} Acc@5 {:.3f}'.format(top1 / n, top5 / n))
    return top1 / n


def save_checkpoint(state, improved, filename="last.pth.tar"):
    torch.save(state, filename)
    if improved:
        shutil.copyfile(filename, "best.pth.tar")


def set_lr(optimizer, epoch, args):
    # step decay: x0.1 every 30 epochs
    for group in optimizer.param_groups:
        group['lr'] = args.lr * (0.1 ** (epoch // 30))


def accuracy(logits, y, topk=(1,)):
    with torch.no_grad():
        _, pred = logits.topk(max(topk), 1, True, True)
        correct = pred.t().eq(y.view(1, -1).expand_as(pred.t()))
        return [correct[:k].reshape(-1).float().sum() * (100.0 / y.size(0)) for k in topk]


if __name__ == '__main__':
    main()
