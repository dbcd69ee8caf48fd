import argparse

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from torch.utils import data

from datasets import VOCDataSet
from model import DeepLabResNet

IMG_MEAN = np.array((104.00698793, 116.66876762, 122.67891434), dtype=np.float32)

parser = argparse.ArgumentParser(description="DeepLab-ResNet Network")
parser.add_argument("--batch-size", type=int, default=10)
parser.add_argument("--data-dir", type=str, default="../../data/VOCdevkit/voc12")
parser.add_argument("--data-list", type=str, default="./dataset/list/train_aug.txt")
parser.add_argument("--learning-rate", type=float, default=2.5e-4)
parser.add_argument("--num-steps", type=int, default=20000)
parser.add_argument("--restore-from", type=str,
                    default="./dataset/MS_DeepLab_resnet_pretrained_COCO_init.pth")
args = parser.parse_args()


def main():
    model = DeepLabResNet(num_classes=21)
    # For a small batch size, it is better to keep the statistics of the BN layers
    # (running means and variances) frozen and not update the pretrained values.
    model.load_state_dict(torch.load(args.restore_from), strict=False)
    # model.eval()
    model.train()
    model.cuda()

    loader = data.DataLoader(
        VOCDataSet(args.data_dir, args.data_list, crop_size=(321, 321), mean=IMG_MEAN),
        batch_size=args.batch_size, shuffle=True, num_workers=5, pin_memory=True)

    backbone = [p for name, p in model.named_parameters()
                if p.requires_grad and not name.startswith("classifier")]
    optimizer = optim.SGD(
        [{"params": backbone, "lr": args.learning_rate},
         {"params": model.classifier.parameters(), "lr": 10 * args.learning_rate}],
        lr=args.learning_rate, momentum=0.9, weight_decay=0.0005)
    criterion = nn.CrossEntropyLoss(ignore_index=255)
    upsample = nn.Upsample(size=(321, 321), mode="bilinear")

    for step, (images, labels, _, _) in enumerate(loader):
        optimizer.zero_grad()
        loss = criterion(upsample(model(images.cuda())), labels.long().cuda())
        loss.backward()
        optimizer.step()
        print("iter", step, "of", args.num_steps, "loss", loss.item())
        if step >= args.num_steps - 1:
            torch.save(model.state_dict(), "./snapshots/VOC12_scenes_20000.pth")
            break


if __name__ == "__main__":
    main()
