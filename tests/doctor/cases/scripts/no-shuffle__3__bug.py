# Bird species, ResNet-18; the folders were already split by a script on disk.
import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

norm = transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
aug = transforms.Compose([transforms.RandomResizedCrop(224), transforms.ToTensor(), norm])
plain = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), norm])

dl_a = DataLoader(datasets.ImageFolder("birds/part_a", aug), batch_size=64)  # expect: no-shuffle
dl_b = DataLoader(datasets.ImageFolder("birds/part_b", plain), batch_size=64)

net = models.resnet18(weights="IMAGENET1K_V1")
net.fc = nn.Linear(net.fc.in_features, 200)
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
crit = nn.CrossEntropyLoss()

for ep in range(20):
    net.train()
    for xb, yb in dl_a:
        opt.zero_grad()
        crit(net(xb), yb).backward()
        opt.step()
    net.eval()
    right = 0
    with torch.no_grad():
        for xb, yb in dl_b:
            right += (net(xb).argmax(1) == yb).sum().item()
    print(ep, right / len(dl_b.dataset))
