import numpy as np
import torch
import torch.utils.data as data
from PIL import Image


class MyDataset(data.Dataset):
    def __init__(self, annotation_lines, input_shape, transform=None):
        self.lines = annotation_lines
        self.input_shape = input_shape
        self.transform = transform

    def __len__(self):
        return len(self.lines)

    def __getitem__(self, idx):
        label_str, rest = self.lines[idx].split(';')[:2]
        img = Image.open(rest.split()[0])

        if self.transform is not None:
            img = self.transform(img)
        else:
            img = torch.from_numpy(np.array(img).transpose(2, 0, 1))

        return img, int(label_str)
