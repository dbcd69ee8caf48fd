# CIFAR-10 with a held-out part of the training set for model selection.
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, SubsetRandomSampler
from torchvision import datasets, models, transforms

hold_out = 5000
mean, std = (0.4914, 0.4822, 0.4465), (0.2470, 0.2435, 0.2616)
aug = transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(),
                          transforms.ToTensor(), transforms.Normalize(mean, std)])
plain = transforms.Compose([transforms.ToTensor(), transforms.Normalize(mean, std)])
full = datasets.CIFAR10("data", train=True, transform=aug, download=True)
same = datasets.CIFAR10("data", train=True, transform=plain, download=True)
other = datasets.CIFAR10("data", train=False, transform=plain, download=True)
perm = torch.randperm(len(full))
s1 = SubsetRandomSampler(perm[hold_out:])
s2 = SubsetRandomSampler(perm[:hold_out])
dl1 = DataLoader(full, sampler=s1, batch_size=128)
dl2 = DataLoader(same, sampler=s2, batch_size=128)
dl3 = DataLoader(other, batch_size=256)


def epoch(net, dl, opt=None):
    fit = opt is not None
    net.train(fit)
    wrong = 0
    with torch.set_grad_enabled(fit):
        for x, y in dl:
            out = net(x)
            loss = nn.functional.cross_entropy(out, y)
            if fit:
                opt.zero_grad()
                loss.backward()
                opt.step()
            wrong += (out.argmax(1) != y).sum().item()
    return wrong / len(dl.sampler if dl.sampler is not None else dl.dataset)


net = models.resnet18(num_classes=10)
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
best = 1.0
for e in range(30):
    epoch(net, dl1, opt)
    err = epoch(net, dl2 if hold_out else dl3)
    if err < best:
        best = err
        torch.save(net.state_dict(), "best.pt")
