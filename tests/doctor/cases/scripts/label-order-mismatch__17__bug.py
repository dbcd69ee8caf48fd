import torch
from sklearn.metrics import classification_report
from torch import nn
from torch.utils.data import DataLoader, random_split
from torchvision import datasets, models, transforms

tf = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(),
                         transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
full = datasets.ImageFolder("garbage_classification", transform=tf)
n_val = len(full) // 5
train_ds, val_ds = random_split(full, [len(full) - n_val, n_val], generator=torch.Generator().manual_seed(0))
train_loader = DataLoader(train_ds, batch_size=32, shuffle=True)
val_loader = DataLoader(val_ds, batch_size=32, shuffle=False)

model = models.resnet34(weights="IMAGENET1K_V1")
model.fc = nn.Linear(model.fc.in_features, len(full.classes))
optimizer = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
criterion = nn.CrossEntropyLoss()
for epoch in range(8):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()

model.eval()
predictions = []
with torch.no_grad():
    for x, _ in val_loader:
        predictions.extend(model(x).argmax(1).tolist())
print(classification_report(val_ds.dataset.targets[:n_val], predictions, target_names=full.classes))  # expect: label-order-mismatch
