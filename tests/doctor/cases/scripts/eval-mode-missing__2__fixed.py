#!/usr/bin/env python
# coding: utf-8

# In[ ]:


import timm, torch
from timm.data import create_transform, resolve_data_config
from torchvision.datasets import ImageFolder


# In[ ]:


model = timm.create_model('convnext_small', pretrained=True, num_classes=10)
cfg = resolve_data_config({}, model=model)
train_ds = ImageFolder('eurosat/train', transform=create_transform(**cfg, is_training=True))
test_ds = ImageFolder('eurosat/test', transform=create_transform(**cfg))
train_loader = torch.utils.data.DataLoader(train_ds, batch_size=32, shuffle=True)
test_loader = torch.utils.data.DataLoader(test_ds, batch_size=64)
opt = torch.optim.AdamW(model.parameters(), lr=5e-5)
loss_fn = torch.nn.CrossEntropyLoss()


# In[ ]:


for epoch in range(3):
    for imgs, labels in train_loader:
        loss = loss_fn(model(imgs), labels)
        opt.zero_grad()
        loss.backward()
        opt.step()


# In[ ]:


model.eval()
correct = 0
with torch.no_grad():
    for imgs, labels in test_loader:
        out = model(imgs)
        correct += (out.argmax(1) == labels).sum().item()
print('test acc', correct / len(test_ds))
