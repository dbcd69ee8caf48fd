"""Signature verification: a Siamese network on (anchor, other) signature pairs, same writer
or not, with a held-out share of the pairs to measure verification accuracy."""
import glob
import random

import torch
from PIL import Image
from sklearn.model_selection import train_test_split
from torch.utils.data import DataLoader, Dataset
from torchvision import transforms

scans = sorted(glob.glob("signatures/*/*.png"))
writer = {p: p.split("/")[-2] for p in scans}
fit_scans, held_scans = train_test_split(scans, test_size=0.2, random_state=0)
# partners are drawn inside each part, so no scan is on both sides
fit_couples = [(s, random.choice(fit_scans)) for s in fit_scans]
held_couples = [(s, random.choice(held_scans)) for s in held_scans]


class Couples(Dataset):
    def __init__(self, items, tf):
        self.items, self.tf = items, tf

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        a, b = self.items[i]
        same = torch.tensor(float(writer[a] == writer[b]))
        return self.tf(Image.open(a)), self.tf(Image.open(b)), same


tf = transforms.Compose([transforms.Grayscale(3), transforms.Resize((155, 220)), transforms.ToTensor()])
fit_loader = DataLoader(Couples(fit_couples, tf), batch_size=32, shuffle=True)
held_loader = DataLoader(Couples(held_couples, tf), batch_size=64)
