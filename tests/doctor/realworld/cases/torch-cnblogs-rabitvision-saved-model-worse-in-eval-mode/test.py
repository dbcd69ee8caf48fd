import torch
from torch.utils.data import DataLoader

from net import SegNetLite
from data import ScanPatches

ckpt = torch.load("checkpoints/last.pth", map_location="cpu")
net = SegNetLite(n_classes=4)
net.load_state_dict(ckpt)
net.eval()          # with net.train() here instead, the scores come back to the training-time ones

loader = DataLoader(ScanPatches("data/test"), batch_size=8, shuffle=False)
hits = seen = 0
with torch.no_grad():
    for x, y in loader:
        pred = net(x).argmax(1)
        hits += (pred == y).sum().item()
        seen += y.numel()
print("test pixel accuracy:", hits / seen)
