# Leaf disease classifier; one function runs an epoch, training when it gets an optimizer.
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

aug = transforms.Compose([
    transforms.RandomResizedCrop(224),
    transforms.RandomHorizontalFlip(),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])
plain = transforms.Compose([
    transforms.Resize(256),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])
ds_a = datasets.ImageFolder("leaves/a", aug)
ds_b = datasets.ImageFolder("leaves/b", plain)
dl_a = DataLoader(ds_a, batch_size=32, shuffle=True)
dl_b = DataLoader(ds_b, batch_size=32)


def run_epoch(net, dl, opt=None):
    learning = opt is not None
    net.train(learning)
    hits = 0
    with torch.set_grad_enabled(learning):
        for x, y in dl:
            out = net(x)
            loss = nn.functional.cross_entropy(out, y)
            if learning:
                opt.zero_grad()
                loss.backward()
                opt.step()
            hits += (out.argmax(1) == y).sum().item()
    return hits / len(dl.dataset)


net = models.mobilenet_v3_large(weights="IMAGENET1K_V2")
net.classifier[3] = nn.Linear(net.classifier[3].in_features, 38)
opt = torch.optim.Adam(net.parameters(), lr=3e-4)
for ep in range(15):
    run_epoch(net, dl_a, opt)
    print(ep, run_epoch(net, dl_b))
