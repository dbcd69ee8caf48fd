# ResNet-50 fine-tuned on 2,000 pet photos; the outer counter is written as a plain `i`.
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

tf = transforms.Compose([
    transforms.RandomResizedCrop(224),
    transforms.RandomHorizontalFlip(),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])
dl = DataLoader(datasets.ImageFolder("pets/train", tf), batch_size=32, shuffle=True)

m = models.resnet50(weights="IMAGENET1K_V2")
m.fc = nn.Linear(m.fc.in_features, 37)
opt = torch.optim.SGD([
    {"params": [p for n, p in m.named_parameters() if not n.startswith("fc.")], "lr": 1e-3},
    {"params": m.fc.parameters(), "lr": 1e-2},
], momentum=0.9)
crit = nn.CrossEntropyLoss()

for i in range(120):
    m.train()
    for a, b in dl:
        opt.zero_grad()
        crit(m(a), b).backward()
        opt.step()
    torch.save(m.state_dict(), "last.pt")
