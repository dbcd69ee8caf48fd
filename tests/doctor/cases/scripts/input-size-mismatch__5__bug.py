import torch
import torch.nn as nn
import torchvision
import torchvision.transforms as T

train_tf = T.Compose([T.RandomCrop(32, padding=4), T.RandomHorizontalFlip(), T.ToTensor(),  # expect: input-size-mismatch
                      T.Normalize((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762))])
test_tf = T.Compose([T.ToTensor(), T.Normalize((0.5071, 0.4865, 0.4409), (0.2673, 0.2564, 0.2762))])
train_set = torchvision.datasets.CIFAR100("./data", train=True, download=True, transform=train_tf)
test_set = torchvision.datasets.CIFAR100("./data", train=False, download=True, transform=test_tf)
train_loader = torch.utils.data.DataLoader(train_set, batch_size=128, shuffle=True)
test_loader = torch.utils.data.DataLoader(test_set, batch_size=256)

net = torch.hub.load("pytorch/vision", "resnet50", weights="IMAGENET1K_V2")  # expect: input-size-mismatch
net.fc = nn.Linear(net.fc.in_features, 100)
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()
for epoch in range(30):
    net.train()
    for x, y in train_loader:
        opt.zero_grad()
        loss_fn(net(x), y).backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        acc = sum((net(x).argmax(1) == y).sum().item() for x, y in test_loader) / len(test_set)
    print(epoch, acc)
