import os
import matplotlib.pyplot as plt
import numpy as np
import torchvision.transforms as transforms


def get_classes(path):
    with open(path, encoding='utf-8') as f:
        names = [line.strip() for line in f.readlines()]
    return names, len(names)


def draw_result_visualization(folder, history):
    np.savetxt(os.path.join(folder, "history.txt"), history, fmt="%.4f", delimiter=',')
    for row, name in [(1, "loss"), (2, "top1"), (3, "top3")]:
        plt.figure()
        plt.plot(history[0], history[row])
        plt.xlabel("epoch")
        plt.ylabel(name)
        plt.savefig(os.path.join(folder, name + ".png"))


def store_result(folder, acc, recall, precision, f1, cm, epochs, batch_size, lr):
    with open(os.path.join(folder, "result.txt"), 'w', encoding="utf-8") as f:
        f.write("epochs: {}  batch_size: {}  lr: {}\n".format(epochs, batch_size, lr))
        f.write("acc: {:.4f}\nrecall: {:.3f}\nprecision: {:.3f}\nf1: {:.3f}\n".format(acc, recall, precision, f1))
        f.write("confusion matrix:\n{}".format(cm))


def transform(IsResize, Resize_size, IsTotensor, IsNormalize, Norm_mean, Norm_std,
              IsCentercrop, Centercrop_size, IsRandomCrop, RandomCrop_size,
              IsRandomHorizontalFlip, HorizontalFlip_rate, IsRandomRotation, degrees):
    ops = []
    # 几何增强
    if IsRandomRotation:
        ops.append(transforms.RandomRotation(degrees))
    if IsRandomHorizontalFlip:
        ops.append(transforms.RandomHorizontalFlip(HorizontalFlip_rate))
    # 尺寸
    if IsResize:
        ops.append(transforms.Resize(Resize_size))
    if IsCentercrop:
        ops.append(transforms.CenterCrop(Centercrop_size))
    if IsRandomCrop:
        ops.append(transforms.RandomCrop(RandomCrop_size))
    # 转 tensor 与标准化
    if IsTotensor:
        ops.append(transforms.ToTensor())
    if IsNormalize:
        ops.append(transforms.Normalize(Norm_mean, Norm_std))
    return transforms.Compose(ops)


def get_transform(size=[224, 224], mean=[0, 0, 0], std=[1, 1, 1], IsResize=False, IsCentercrop=False,
                  IsRandomCrop=False, IsTotensor=False, IsNormalize=False,
                  IsRandomHorizontalFlip=False, IsRandomRotation=False):
    return transform(
        IsResize=IsResize, Resize_size=size,
        IsCentercrop=IsCentercrop, Centercrop_size=size,
        IsRandomCrop=IsRandomCrop, RandomCrop_size=size,
        IsTotensor=IsTotensor,  # PIL [0,255] HWC -> tensor [0,1] CHW
        IsNormalize=IsNormalize, Norm_mean=mean, Norm_std=std,
        IsRandomHorizontalFlip=IsRandomHorizontalFlip, HorizontalFlip_rate=0.5,
        IsRandomRotation=IsRandomRotation, degrees=15,
    )
