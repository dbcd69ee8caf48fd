import torch.nn as nn


def block(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1, bias=False),
        nn.BatchNorm2d(cout),
        nn.ReLU(inplace=True),
    )


class SegNetLite(nn.Module):
    def __init__(self, n_classes):
        super().__init__()
        self.enc = nn.Sequential(block(1, 32), nn.MaxPool2d(2), block(32, 64), nn.MaxPool2d(2), block(64, 128))
        self.dec = nn.Sequential(
            nn.Upsample(scale_factor=2), block(128, 64), nn.Upsample(scale_factor=2), block(64, 32)
        )
        self.head = nn.Conv2d(32, n_classes, 1)

    def forward(self, x):
        return self.head(self.dec(self.enc(x)))
