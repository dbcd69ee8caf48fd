"""Binary classifier on top of a pretrained EfficientNet: one logit trained with
BCEWithLogitsLoss, the threshold applied to the sigmoid of that logit."""
import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

device = "cuda" if torch.cuda.is_available() else "cpu"
weights = models.EfficientNet_B0_Weights.IMAGENET1K_V1
preprocess = weights.transforms()
train_tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
                               transforms.ToTensor(),
                               transforms.Normalize(preprocess.mean, preprocess.std)])
train_set = datasets.ImageFolder("pneumonia/train", transform=train_tf)
val_set = datasets.ImageFolder("pneumonia/val", transform=preprocess)
train_loader = DataLoader(train_set, batch_size=32, shuffle=True, num_workers=4)
val_loader = DataLoader(val_set, batch_size=64, shuffle=False, num_workers=4)

model = models.efficientnet_b0(weights=weights)
model.classifier[1] = nn.Linear(model.classifier[1].in_features, 1)
model = model.to(device)

n_pos = sum(train_set.targets)
pos_weight = torch.tensor([(len(train_set) - n_pos) / n_pos], device=device)
criterion = nn.BCEWithLogitsLoss(pos_weight=pos_weight)
optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=1e-2)

for epoch in range(8):
    model.train()
    total = 0.0
    for x, y in train_loader:
        x, y = x.to(device), y.float().unsqueeze(1).to(device)
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * x.size(0)

    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in val_loader:
            prob = torch.sigmoid(model(x.to(device))).squeeze(1).cpu()
            correct += ((prob > 0.5).long() == y).sum().item()
    print(f"epoch {epoch}: train loss {total / len(train_set):.4f}  val acc {correct / len(val_set):.4f}")
