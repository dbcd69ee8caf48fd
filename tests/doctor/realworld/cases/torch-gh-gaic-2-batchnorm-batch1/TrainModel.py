import argparse
import os
import random
import sys

import numpy as np
import torch
import torch.optim as optim
import torch.utils.data as data
from scipy.stats import pearsonr, spearmanr
from torch.autograd import Variable

from croppingDataset import GAICD
from croppingModel import build_crop_model

SEED = 0
random.seed(SEED)
np.random.seed(SEED)
torch.manual_seed(SEED)

parser = argparse.ArgumentParser(description='Grid anchor based image cropping: training')
parser.add_argument('--dataset_root', default='dataset/GAIC/', help='dataset folder')
parser.add_argument('--base_model', default='mobilenetv2', help='backbone: mobilenetv2 / shufflenetv2')
parser.add_argument('--scale', default='multi', type=str, help='single or multi scale features')
parser.add_argument('--downsample', default=4, type=int, help='backbone stride exponent')
parser.add_argument('--augmentation', default=1, type=int, help='use augmentation')
parser.add_argument('--image_size', default=256, type=int, help='short side of the input')
parser.add_argument('--align_size', default=9, type=int, help='RoIAlign / RoDAlign output size')
parser.add_argument('--reduced_dim', default=8, type=int, help='channels after the reduction conv')
parser.add_argument('--batch_size', default=1, type=int, help='images per batch')
parser.add_argument('--num_workers', default=0, type=int, help='dataloader workers')
parser.add_argument('--lr', default=1e-4, type=float, help='learning rate')
parser.add_argument('--save_folder', default='weights/cropping/', help='where checkpoints go')
args = parser.parse_args()

args.save_folder = os.path.join(args.save_folder, '%s_ds%d_%s_aug%d_align%d_dim%d' % (
    args.base_model, args.downsample, args.scale, args.augmentation, args.align_size, args.reduced_dim))
os.makedirs(args.save_folder, exist_ok=True)

cuda = torch.cuda.is_available()
torch.set_default_tensor_type('torch.cuda.FloatTensor' if cuda else 'torch.FloatTensor')

train_loader = data.DataLoader(GAICD(image_size=args.image_size, dataset_dir=args.dataset_root, set='train',
                                     augmentation=args.augmentation),
                               batch_size=args.batch_size, num_workers=args.num_workers, shuffle=True)
test_loader = data.DataLoader(GAICD(image_size=args.image_size, dataset_dir=args.dataset_root, set='test'),
                              batch_size=args.batch_size, num_workers=args.num_workers, shuffle=False)

net = build_crop_model(scale=args.scale, alignsize=args.align_size, reddim=args.reduced_dim,
                       loadweight=True, model=args.base_model, downsample=args.downsample)
if cuda:
    net = torch.nn.DataParallel(net, device_ids=[0]).cuda()
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False

optimizer = optim.Adam(net.parameters(), lr=args.lr)
criterion = torch.nn.SmoothL1Loss()


def boxes_of(sample, ids):
    b = sample['bbox']
    return [(0, b['xmin'][i], b['ymin'][i], b['xmax'][i], b['ymax'][i]) for i in ids]


def test():
    net.eval()
    acc5 = [0.0] * 4
    srcc, pcc = [], []
    loss_sum = 0
    for n, sample in enumerate(test_loader):
        scores = sample['MOS']
        image = Variable(sample['image'].cuda() if cuda else sample['image'])
        roi = Variable(torch.Tensor(boxes_of(sample, range(len(sample['bbox']['xmin'])))))

        out = net(image, roi)
        loss_sum += criterion(out.squeeze(), torch.Tensor(scores)).item()

        gt_rank = sorted(range(len(scores)), key=lambda k: scores[k], reverse=True)
        pred_rank = sorted(range(len(out)), key=lambda k: out[k], reverse=True)
        for k in range(4):
            hits = sum(1.0 for j in range(k + 1) if scores[pred_rank[j]] >= scores[gt_rank[4]])
            acc5[k] += hits / (k + 1)

        pred = torch.squeeze(out).cpu().detach().numpy()
        gt = [s.numpy()[0] for s in scores]
        srcc.append(spearmanr(gt, pred)[0])
        pcc.append(pearsonr(gt, pred)[0])

    n_img = len(test_loader)
    return [a / n_img for a in acc5], sum(srcc) / n_img, sum(pcc) / n_img, loss_sum / n_img


def train():
    net.train()
    for epoch in range(60):
        running = 0
        for n, sample in enumerate(train_loader):
            ids = list(range(len(sample['bbox']['xmin'])))
            random.shuffle(ids)
            ids = ids[:64]
            roi = Variable(torch.Tensor(boxes_of(sample, ids)))
            scores = torch.Tensor([sample['MOS'][i] for i in ids])
            image = Variable(sample['image'].cuda() if cuda else sample['image'])

            out = net(image, roi)
            loss = criterion(out.squeeze(), scores)
            running += loss.item()

            optimizer.zero_grad()
            loss.backward()
            optimizer.step()

            sys.stdout.write('\r[epoch %d] [%d/%d] loss %.4f' % (epoch, n, len(train_loader), running / (n + 1)))

        acc5, srcc, pcc, test_loss = test()
        sys.stdout.write(' | test loss %.4f acc5 %s SRCC %.3f PCC %.3f\n' % (
            test_loss, ', '.join('%.3f' % a for a in acc5), srcc, pcc))
        torch.save(net.module.state_dict(),
                   os.path.join(args.save_folder, 'epoch%d_srcc%.3f_pcc%.3f.pth' % (epoch, srcc, pcc)))


if __name__ == '__main__':
    train()
