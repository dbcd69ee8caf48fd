#!/usr/bin/env python
# coding: utf-8

# In[1]:


import torch, torchvision
from torch.utils.data import DataLoader
from torchvision import transforms


# In[2]:


norm = transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))
train_set = torchvision.datasets.ImageFolder('garbage/train', transforms.Compose([
    transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(), transforms.ToTensor(), norm]))
val_set = torchvision.datasets.ImageFolder('garbage/val', transforms.Compose([
    transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(), norm]))
train_loader = DataLoader(train_set, batch_size=16, shuffle=True, num_workers=2)
val_loader = DataLoader(val_set, batch_size=16, num_workers=2)


# In[3]:


model = torchvision.models.convnext_tiny(weights='DEFAULT')
model.classifier[2] = torch.nn.Linear(768, 6)
optimizer = torch.optim.AdamW(model.classifier.parameters(), lr=1e-3)
criterion = torch.nn.CrossEntropyLoss()
for epoch in range(5):
    model.train()
    for xb, yb in train_loader:
        loss = criterion(model(xb), yb)
        optimizer.zero_grad(); loss.backward(); optimizer.step()
