import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader

from deeplab.model import Res_Deeplab
from deeplab.datasets import SegListDataset

net = Res_Deeplab(num_classes=21)
net.load_state_dict(torch.load('resnet101_coco_init.pth'), strict=False)
net = net.cuda()


def freeze_norm(m):
    if isinstance(m, nn.BatchNorm2d):
        m.momentum = 0
        for p in m.parameters():
            p.requires_grad = False


net.apply(freeze_norm)

train_loader = DataLoader(SegListDataset('data/VOC2012', 'list/train_aug.txt', crop=(321, 321)),
                          batch_size=2, shuffle=True, num_workers=4)
val_loader = DataLoader(SegListDataset('data/VOC2012', 'list/val.txt'), batch_size=1)

optimizer = torch.optim.SGD(filter(lambda p: p.requires_grad, net.parameters()),
                            lr=2.5e-4, momentum=0.9, weight_decay=5e-4)
criterion = nn.CrossEntropyLoss(ignore_index=255)

reference = torch.load('bn_para.pt')

net.train()
for it, (img, mask) in enumerate(train_loader):
    img, mask = img.cuda(), mask.long().cuda()
    optimizer.zero_grad()
    out = net(img)
    out = F.interpolate(out, size=mask.shape[1:], mode='bilinear', align_corners=True)
    loss = criterion(out, mask)
    loss.backward()
    optimizer.step()

    snapshot = []

    def collect(m):
        if m.__class__.__name__.find('BatchNorm2d') != -1:
            snapshot.append([np.average(m.running_mean.data.cpu().numpy()),
                             np.average(m.running_var.data.cpu().numpy()),
                             np.average(m.weight.data.cpu().numpy()),
                             np.average(m.bias.data.cpu().numpy())])

    net.apply(collect)
    assert snapshot == reference

    if it % 100 == 0:
        print('iter', it, 'loss', loss.item())

net.eval()
hist = np.zeros((21, 21))
with torch.no_grad():
    for img, mask in val_loader:
        pred = net(img.cuda())
        pred = F.interpolate(pred, size=mask.shape[1:], mode='bilinear', align_corners=True)
        pred = pred.argmax(1).cpu().numpy().ravel()
        gt = mask.numpy().ravel()
        keep = gt != 255
        hist += np.bincount(21 * gt[keep] + pred[keep], minlength=441).reshape(21, 21)
iou = np.diag(hist) / (hist.sum(0) + hist.sum(1) - np.diag(hist))
print('mIoU', np.nanmean(iou))
