import torch
from torch.utils.data import DataLoader, random_split
from torchvision import models, transforms

from faces_data import FaceAttr

tf = transforms.Compose([
    transforms.Resize(72),
    transforms.CenterCrop(64),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])
full = FaceAttr("data/faces", "data/faces/attrs.txt", transform=tf)
n_val = len(full) // 10
train_ds, val_ds = random_split(full, [len(full) - n_val, n_val])
train_dl = DataLoader(train_ds, batch_size=64, shuffle=True, num_workers=4)
val_dl = DataLoader(val_ds, batch_size=128)

clf = models.mobilenet_v2(pretrained=True)
clf.classifier[1] = torch.nn.Linear(clf.last_channel, 2)
clf = clf.cuda()
opt = torch.optim.Adam(clf.parameters(), lr=3e-4)
loss_fn = torch.nn.CrossEntropyLoss()

for ep in range(6):
    clf.train()
    for x, y in train_dl:
        opt.zero_grad()
        loss = loss_fn(clf(x.cuda()), y.cuda())
        loss.backward()
        opt.step()
    clf.eval()
    right = total = 0
    with torch.no_grad():
        for x, y in val_dl:
            right += (clf(x.cuda()).argmax(1).cpu() == y).sum().item()
            total += len(y)
    print("epoch", ep, "loss", round(loss.item(), 3), "val acc", right / total)
