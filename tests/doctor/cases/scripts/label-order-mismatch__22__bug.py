import glob
import random

import numpy as np
import torch
from PIL import Image

files = sorted(glob.glob("petals/*/*.png"))
names = sorted({f.split("/")[-2] for f in files})
pixels = [np.asarray(Image.open(f).resize((64, 64)), dtype=np.float32) / 255 for f in files]
targets = [names.index(f.split("/")[-2]) for f in files]

random.shuffle(pixels)  # expect: label-order-mismatch
x = torch.tensor(np.stack(pixels)).permute(0, 3, 1, 2)
y = torch.tensor(targets)
dataset = torch.utils.data.TensorDataset(x, y)  # expect: label-order-mismatch
loader = torch.utils.data.DataLoader(dataset, batch_size=32, shuffle=True)
