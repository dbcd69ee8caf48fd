import glob
import random

import numpy as np
import torch
from PIL import Image

files = sorted(glob.glob("petals/*/*.png"))
random.shuffle(files)  # the labels below are read from the shuffled file list
names = sorted({f.split("/")[-2] for f in files})
pixels = [np.asarray(Image.open(f).resize((64, 64)), dtype=np.float32) / 255 for f in files]
targets = [names.index(f.split("/")[-2]) for f in files]

x = torch.tensor(np.stack(pixels)).permute(0, 3, 1, 2)
y = torch.tensor(targets)
dataset = torch.utils.data.TensorDataset(x, y)
loader = torch.utils.data.DataLoader(dataset, batch_size=32, shuffle=True)
