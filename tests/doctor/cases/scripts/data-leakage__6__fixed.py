import glob

import torch
from PIL import Image
from sklearn.model_selection import GroupShuffleSplit
from torch.utils.data import DataLoader, Dataset
from torchvision import models, transforms

paths = sorted(glob.glob("isic2019/images/*.jpg"))
labels = [int(p.split("_")[-1][0]) for p in paths]
patient_ids = [p.split("/")[-1].split("_")[1] for p in paths]
split = GroupShuffleSplit(n_splits=1, test_size=0.2, random_state=0)
train_idx, val_idx = next(split.split(paths, labels, groups=patient_ids))
train_paths, val_paths = [paths[i] for i in train_idx], [paths[i] for i in val_idx]
train_y, val_y = [labels[i] for i in train_idx], [labels[i] for i in val_idx]


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
