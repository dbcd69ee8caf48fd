import numpy as np
import torch
from sklearn.metrics import confusion_matrix
from torch import nn
from torch.utils.data import DataLoader, Subset, SubsetRandomSampler
from torchvision import datasets, models, transforms

tf = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(),
                         transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
dataset = datasets.ImageFolder("skin_lesions", transform=tf)
order = np.random.RandomState(0).permutation(len(dataset))
train_idx, val_idx = order[: int(0.8 * len(order))], order[int(0.8 * len(order)):]
train_loader = DataLoader(dataset, batch_size=32, sampler=SubsetRandomSampler(train_idx))
val_loader = DataLoader(Subset(dataset, val_idx), batch_size=32, shuffle=False)

model = models.densenet121(weights="IMAGENET1K_V1")
model.classifier = nn.Linear(model.classifier.in_features, 7)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
criterion = nn.CrossEntropyLoss()
for epoch in range(5):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        criterion(model(x), y).backward()
        optimizer.step()

model.eval()
predicted, truth = [], []
with torch.no_grad():
    for x, y in val_loader:
        predicted.append(model(x).argmax(1))
        truth.append(y)
print(confusion_matrix(torch.cat(truth).numpy(), torch.cat(predicted).numpy()))
