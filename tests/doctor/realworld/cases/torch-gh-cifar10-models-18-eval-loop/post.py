import torch
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

from model import *


if __name__ == '__main__':
    net = resnet18(pretrained=True, device='cuda').cuda()
    net.load_state_dict(torch.load('state_dicts/resnet18.pt'))

    cifar_mean = (0.4914, 0.4822, 0.4465)
    cifar_std = (0.2471, 0.2435, 0.2616)
    tf = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize(cifar_mean, cifar_std),
    ])
    testset = datasets.CIFAR10(root='./data', train=False, transform=tf, download=True)
    loader = DataLoader(testset, batch_size=10, shuffle=False, num_workers=0)
    all_pred = []
    all_true = []
    for step, (x, y) in enumerate(loader):
        # if step > 20: break
        if True:
            x = x.cuda()
            out = net(x).detach().cpu()
            all_pred.append(out.argmax(1))
            all_true.append(y.cpu())
    all_pred = torch.cat(all_pred)
    all_true = torch.cat(all_true)
    print((all_pred == all_true).sum() / len(all_pred))
