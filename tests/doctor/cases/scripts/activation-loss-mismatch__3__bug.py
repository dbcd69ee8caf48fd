import torch
from torch import nn, optim
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

device = "cuda" if torch.cuda.is_available() else "cpu"
weights = models.EfficientNet_B0_Weights.DEFAULT
preprocess = weights.transforms()

train_set = datasets.ImageFolder("leaves/train", transform=preprocess)
train_loader = DataLoader(train_set, batch_size=32, shuffle=True)

net = models.efficientnet_b0(weights=weights)
net.classifier[1] = nn.Linear(net.classifier[1].in_features, 38)  # expect: activation-loss-mismatch
net = net.to(device)

loss_fn = nn.NLLLoss()  # expect: activation-loss-mismatch
opt = optim.AdamW(net.classifier.parameters(), lr=1e-3)

for epoch in range(3):
    net.train()
    for xb, yb in train_loader:
        xb, yb = xb.to(device), yb.to(device)
        logits = net(xb)
        loss = loss_fn(logits, yb)
        opt.zero_grad()
        loss.backward()
        opt.step()
