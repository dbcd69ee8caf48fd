import torch
import torch.nn as nn
from torchvision import datasets, models, transforms

tf_train = transforms.Compose([
    transforms.RandomResizedCrop(224),
    transforms.RandomHorizontalFlip(),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])
tf_eval = transforms.Compose([
    transforms.Resize(256),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])

train_ds = datasets.FGVCAircraft('data', split='trainval', transform=tf_train, download=True)
test_ds = datasets.FGVCAircraft('data', split='test', transform=tf_eval, download=True)
train_dl = torch.utils.data.DataLoader(train_ds, batch_size=32, num_workers=4)
test_dl = torch.utils.data.DataLoader(test_ds, batch_size=64, num_workers=4)

net = models.resnet50(weights=models.ResNet50_Weights.IMAGENET1K_V2)
net.fc = nn.Linear(net.fc.in_features, len(train_ds.classes))
net = net.cuda()
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
crit = nn.CrossEntropyLoss()

for epoch in range(30):
    net.train()
    for x, y in train_dl:
        x, y = x.cuda(), y.cuda()
        loss = crit(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    net.eval()
    hit = n = 0
    with torch.no_grad():
        for x, y in test_dl:
            hit += (net(x.cuda()).argmax(1).cpu() == y).sum().item()
            n += y.numel()
    print(f'epoch {epoch}: loss {loss.item():.3f} test acc {hit / n:.4f}')
