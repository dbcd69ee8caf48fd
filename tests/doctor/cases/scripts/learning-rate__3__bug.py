import torch
from torch import nn
from torchvision import models


class Net(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        resnet = models.resnet50(weights="IMAGENET1K_V2")
        self.backbone = nn.Sequential(*list(resnet.children())[:-1])
        self.head = nn.Linear(2048, num_classes)

    def forward(self, x):
        return self.head(self.backbone(x).flatten(1))


class Classifier(nn.Module):
    def __init__(self, num_classes):
        super().__init__()
        self.net = Net(num_classes)
        self.criterion = nn.CrossEntropyLoss()

    def forward(self, x, y):
        return self.criterion(self.net(x), y)


model = Classifier(10)
groups = [
    {"params": [p for n, p in model.named_parameters() if not n.startswith("backbone")]},
    {"params": [p for n, p in model.named_parameters() if n.startswith("backbone")], "lr": 1e-5},  # expect: learning-rate
]
optimizer = torch.optim.AdamW(groups, lr=1e-3)
for x, y in train_loader:
    loss = model(x, y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()
