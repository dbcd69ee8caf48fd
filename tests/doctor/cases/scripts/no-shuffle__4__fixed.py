# torchrun --nproc_per_node=4 finetune.py
import os

import torch
import torch.distributed as dist
import torch.nn as nn
from torch.nn.parallel import DistributedDataParallel as DDP
from torch.utils.data import DataLoader
from torch.utils.data.distributed import DistributedSampler
from torchvision import datasets, models, transforms

dist.init_process_group("nccl")
rank = int(os.environ["LOCAL_RANK"])
torch.cuda.set_device(rank)

tf = transforms.Compose(
    [
        transforms.Resize(256),
        transforms.CenterCrop(224),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ]
)
train_set = datasets.ImageFolder("birds/train", tf)
val_set = datasets.ImageFolder("birds/val", tf)
train_sampler = DistributedSampler(train_set, shuffle=True, drop_last=True)
train_loader = DataLoader(train_set, batch_size=64, sampler=train_sampler, num_workers=8)
val_loader = DataLoader(val_set, batch_size=64, shuffle=False, num_workers=8)

net = models.resnet50(weights="IMAGENET1K_V2")
net.fc = nn.Linear(net.fc.in_features, len(train_set.classes))
net = DDP(net.cuda(rank), device_ids=[rank])
opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.9)
loss_fn = nn.CrossEntropyLoss()

for epoch in range(30):
    train_sampler.set_epoch(epoch)
    net.train()
    for images, labels in train_loader:
        images, labels = images.cuda(rank), labels.cuda(rank)
        opt.zero_grad()
        loss = loss_fn(net(images), labels)
        loss.backward()
        opt.step()
    net.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in val_loader:
            pred = net(images.cuda(rank)).argmax(1)
            correct += (pred == labels.cuda(rank)).sum().item()
    if rank == 0:
        print(f"epoch {epoch} val acc {correct / len(val_set):.4f}")
