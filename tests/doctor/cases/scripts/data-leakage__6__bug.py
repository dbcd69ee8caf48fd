import glob

import torch
from PIL import Image
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, Dataset
from torchvision import models, transforms

paths = sorted(glob.glob("isic2019/images/*.jpg"))  # expect: data-leakage
labels = [int(p.split("_")[-1][0]) for p in paths]
train_paths, val_paths, train_y, val_y = train_test_split(paths, labels, test_size=0.2, random_state=0)  # expect: data-leakage


class Lesions(Dataset):
    def __init__(self, paths, labels, transform):
        self.paths, self.labels, self.transform = paths, labels, transform

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        return self.transform(Image.open(self.paths[i]).convert("RGB")), self.labels[i]


tf = transforms.Compose([transforms.Resize((224, 224)), transforms.ToTensor(),
                         transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
train_loader = DataLoader(Lesions(train_paths, train_y, tf), batch_size=32, shuffle=True)
val_loader = DataLoader(Lesions(val_paths, val_y, tf), batch_size=64)
model = models.resnet18(weights="DEFAULT")
model.fc = torch.nn.Linear(512, 8)
