import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

device = "cuda"
tf_train = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
                               transforms.ToTensor(),
                               transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
tf_val = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                             transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
train_loader = DataLoader(datasets.ImageFolder("dermnet/train", tf_train), batch_size=32, shuffle=True)
val_loader = DataLoader(datasets.ImageFolder("dermnet/val", tf_val), batch_size=32)

model = models.efficientnet_b2(weights="DEFAULT")  # expect: eval-mode-missing
model.classifier[1] = nn.Linear(model.classifier[1].in_features, 23)
model.to(device)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.AdamW([
    {"params": model.features.parameters(), "lr": 3e-5},
    {"params": model.classifier.parameters(), "lr": 1e-3},
])


def train_one_epoch():
    model.train()
    for x, y in train_loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()


def validate():
    correct = total = 0
    with torch.no_grad():
        for x, y in val_loader:
            x, y = x.to(device), y.to(device)
            pred = model(x).argmax(dim=1)  # expect: eval-mode-missing
            correct += (pred == y).sum().item()
            total += y.size(0)
    return correct / total


for epoch in range(20):
    train_one_epoch()
    print(epoch, validate())
