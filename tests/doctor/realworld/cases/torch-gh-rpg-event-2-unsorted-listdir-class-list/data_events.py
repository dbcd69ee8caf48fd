import os
from os import listdir
from os.path import join

import numpy as np
import torch
from torch.utils.data import Dataset


class EventFolders(Dataset):
    def __init__(self, root, augment=False):
        self.classes = listdir(root)

        self.files = []
        self.labels = []
        self.augment = augment

        for i, c in enumerate(self.classes):
            new_files = [join(root, c, f) for f in listdir(join(root, c))]
            self.files += new_files
            self.labels += [i] * len(new_files)

    def __len__(self):
        return len(self.files)

    def __getitem__(self, idx):
        label = self.labels[idx]
        events = np.load(self.files[idx]).astype(np.float32)
        if self.augment:
            events[:, :2] += np.random.randint(-12, 13, size=(1, 2))
        return events, label
