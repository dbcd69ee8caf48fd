"""Trainer object as in our lab template: everything happens in Job.run()."""
import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms


class Job:
    def __init__(self, root, epochs=5):
        self.root = root
        self.epochs = epochs

    def run(self):
        def evaluate():
            hits = 0
            with torch.no_grad():
                for x, y in dl_va:
                    hits += (net(x).argmax(1) == y).sum().item()  # expect: eval-mode-missing
            return hits / len(dl_va.dataset)

        norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
        tr = transforms.Compose([transforms.RandomResizedCrop(224), transforms.ToTensor(), norm])
        ev = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224),
                                 transforms.ToTensor(), norm])
        dl_tr = DataLoader(datasets.ImageFolder(f"{self.root}/train", tr), batch_size=32, shuffle=True)
        dl_va = DataLoader(datasets.ImageFolder(f"{self.root}/val", ev), batch_size=64)
        net = models.resnet34(weights="IMAGENET1K_V1")
        net.fc = nn.Linear(net.fc.in_features, 10)
        opt = torch.optim.Adam([
            {"params": [p for n, p in net.named_parameters() if not n.startswith("fc")], "lr": 1e-5},
            {"params": net.fc.parameters(), "lr": 1e-3},
        ])


        for ep in range(self.epochs):
            net.train()
            for x, y in dl_tr:
                opt.zero_grad()
                nn.functional.cross_entropy(net(x), y).backward()
                opt.step()
            print(ep, evaluate())


Job("data").run()
