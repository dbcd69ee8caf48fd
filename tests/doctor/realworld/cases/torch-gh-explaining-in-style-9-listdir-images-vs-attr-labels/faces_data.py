import os

import torch
from PIL import Image
from torch.utils.data import Dataset


class FaceAttr(Dataset):
    def __init__(self, face_dir, attr_file, attr="Smiling", transform=None):
        self.transform = transform
        with open(attr_file) as fh:
            rows = fh.read().splitlines()
        names = rows[1].split()
        col = names.index(attr)
        self.targets = [int(r.split()[col + 1] == "1") for r in rows[2:]]

        img_dir = os.path.join(face_dir, "aligned", "aligned")
        self.paths = [os.path.join(img_dir, f) for f in os.listdir(img_dir) if f.endswith(".jpg")]

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        img = Image.open(self.paths[i]).convert("RGB")
        if self.transform:
            img = self.transform(img)
        return img, torch.tensor(self.targets[i])
