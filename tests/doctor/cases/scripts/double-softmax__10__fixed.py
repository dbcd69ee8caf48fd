# model.py of a leaf-species classifier; the training loop lives in another file
import torch
import torch.nn as nn
import torch.nn.functional as F


class LeafNet(nn.Module):
    def __init__(self, n_species=5):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, 16, 5), nn.ReLU(), nn.Conv2d(16, 32, 3), nn.AdaptiveAvgPool2d(1)
        )
        self.fc = nn.Linear(32, n_species)

    def forward(self, img):
        h = self.features(img).flatten(1)
        return self.fc(h)  # logits: CrossEntropyLoss applies the softmax


net = LeafNet()
loss_fn = nn.CrossEntropyLoss(weight=torch.tensor([1.0, 2.0, 1.0, 1.0, 3.0]))
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
