# Skin lesion classifier; the epoch loops live in the repo's engine.py (not pasted).
import pandas as pd
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import models, transforms

from engine import evaluate, train_one_epoch


class Lesions(Dataset):
    def __init__(self, frame, fn=None):
        self.frame = frame
        self.transform = fn

    def __len__(self):
        return len(self.frame)

    def __getitem__(self, i):
        img = Image.open(self.frame.path[i]).convert("RGB")
        if self.transform is not None:
            img = self.transform(img)
        return img, self.frame.label[i]


prep = transforms.Compose([transforms.RandomResizedCrop(224), transforms.ToTensor(),
                           transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
a = Lesions(pd.read_csv("split_a.csv"), fn=prep)
b = Lesions(pd.read_csv("split_b.csv"))  # expect: train-eval-preprocessing-mismatch
la = DataLoader(a, batch_size=32, shuffle=True)
lb = DataLoader(b, batch_size=64)

net = models.efficientnet_b0(weights="IMAGENET1K_V1")
net.classifier[1] = torch.nn.Linear(1280, 7)
opt = torch.optim.AdamW(net.parameters(), lr=3e-4)
for k in range(20):
    train_one_epoch(net, la, opt)
    print(evaluate(net, lb))
