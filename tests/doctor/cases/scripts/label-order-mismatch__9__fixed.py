import pandas as pd
import torch
from PIL import Image
from sklearn.preprocessing import LabelEncoder
from torch import nn
from torch.utils.data import DataLoader, Dataset
from torchvision import models, transforms


encoder = LabelEncoder().fit(pd.read_csv("train.csv")["disease"])


class LeafDataset(Dataset):
    def __init__(self, csv_file, transform):
        self.df = pd.read_csv(csv_file)
        self.labels = encoder.transform(self.df["disease"])
        self.transform = transform

    def __len__(self):
        return len(self.df)

    def __getitem__(self, i):
        img = Image.open(self.df["image"].iloc[i]).convert("RGB")
        return self.transform(img), int(self.labels[i])


tf = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(),
                         transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
train_loader = DataLoader(LeafDataset("train.csv", tf), batch_size=32, shuffle=True)
val_loader = DataLoader(LeafDataset("val.csv", tf), batch_size=32)

model = models.resnet18(weights="IMAGENET1K_V1")
model.fc = nn.Linear(model.fc.in_features, 12)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
criterion = nn.CrossEntropyLoss()
for epoch in range(10):
    model.train()
    for x, y in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(x), y)
        loss.backward()
        optimizer.step()
    model.eval()
    correct = 0
    with torch.no_grad():
        for x, y in val_loader:
            correct += (model(x).argmax(1) == y).sum().item()
    print(epoch, correct / len(val_loader.dataset))
