import torch
import torchvision
from torchvision import models, transforms

tfms = {
    "train": transforms.Compose([transforms.Resize(224), transforms.RandomHorizontalFlip(),
                                 transforms.ToTensor()]),
    "test": transforms.Compose([transforms.Resize(224), transforms.ToTensor()]),
}
sets = {
    "train": torchvision.datasets.CIFAR10("data", train=True, download=True, transform=tfms["train"]),
    "test": torchvision.datasets.CIFAR10("data", train=False, download=True, transform=tfms["test"]),
}
loaders = {k: torch.utils.data.DataLoader(sets[k], batch_size=64, shuffle=(k == "train"))
           for k in ["train", "test"]}

model = models.resnet18(weights="DEFAULT")
model.fc = torch.nn.Linear(model.fc.in_features, 10)
opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
crit = torch.nn.CrossEntropyLoss()
for epoch in range(5):
    for phase in ["train", "test"]:
        model.train() if phase == "train" else model.eval()
        correct = 0
        for x, y in loaders[phase]:
            with torch.set_grad_enabled(phase == "train"):
                out = model(x)
                loss = crit(out, y)
                if phase == "train":
                    opt.zero_grad()
                    loss.backward()
                    opt.step()
            correct += (out.argmax(1) == y).sum().item()
        print(phase, correct / len(sets[phase]))
