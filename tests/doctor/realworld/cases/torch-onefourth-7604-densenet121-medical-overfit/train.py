import torch
import torch.nn as nn
from torchvision import datasets, models, transforms

train_tf = transforms.Compose([
    transforms.Resize((224, 224)),
    transforms.RandomRotation(15),
    transforms.RandomHorizontalFlip(),
    transforms.RandomVerticalFlip(),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])
val_tf = transforms.Compose([
    transforms.Resize((224, 224)),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])

train_set = datasets.ImageFolder('scans/train', transform=train_tf)
val_set = datasets.ImageFolder('scans/val', transform=val_tf)
train_loader = torch.utils.data.DataLoader(train_set, batch_size=32, shuffle=True)
val_loader = torch.utils.data.DataLoader(val_set, batch_size=32)

device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
net = models.densenet121(pretrained=True)
net.classifier = nn.Linear(net.classifier.in_features, len(train_set.classes))
net = net.to(device)

criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(net.parameters(), lr=0.001, weight_decay=1e-5)

best = 0.0
for epoch in range(60):
    net.train()
    for x, y in train_loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = criterion(net(x), y)
        loss.backward()
        optimizer.step()

    net.eval()
    correct = total = 0
    with torch.no_grad():
        for x, y in val_loader:
            x, y = x.to(device), y.to(device)
            correct += (net(x).argmax(1) == y).sum().item()
            total += y.size(0)
    acc = correct / total
    best = max(best, acc)
    print(f'epoch {epoch + 1} train loss {loss.item():.4f} val acc {acc:.3f} best {best:.3f}')
