import glob
import sys

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset

from NTU_Fi_model import NTU_Fi_ResNet18


class CSI_Dataset(Dataset):
    def __init__(self, root_dir, modal='CSIamp'):
        self.root_dir = root_dir
        self.modal = modal
        self.data_list = glob.glob(root_dir + '/*/*.csv')
        self.folder = glob.glob(root_dir + '/*/')
        self.category = {self.folder[i].split('/')[-2]: i for i in range(len(self.folder))}

    def __len__(self):
        return len(self.data_list)

    def __getitem__(self, idx):
        sample_dir = self.data_list[idx]
        y = self.category[sample_dir.split('/')[-2]]
        x = pd.read_csv(sample_dir, header=None).values.astype(np.float32)
        x = (x - 42.3199) / 4.9802
        x = torch.FloatTensor(x).view(3, 114, 500)
        return x, y


root = sys.argv[1]
test_loader = DataLoader(CSI_Dataset(root + '/NTU-Fi_HAR/test_amp/'), batch_size=64, shuffle=False)

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
model = NTU_Fi_ResNet18(num_classes=6).to(device)
model.load_state_dict(torch.load("NTU-Fi_HAR_ResNet18.pt", map_location=device))

model.eval()
correct, total = 0, 0
with torch.no_grad():
    for inputs, labels in test_loader:
        inputs, labels = inputs.to(device), labels.to(device)
        outputs = model(inputs)
        correct += (outputs.argmax(dim=1) == labels).sum().item()
        total += labels.size(0)
print("test accuracy: %.4f" % (correct / total))
