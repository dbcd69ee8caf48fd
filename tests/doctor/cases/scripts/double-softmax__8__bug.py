"""EfficientNet-B0 on 5 flower classes; everything lives in main() as the repo's README shows."""
import argparse

import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", default="flowers")
    parser.add_argument("--epochs", type=int, default=5)
    args = parser.parse_args()

    class FlowerNet(nn.Module):
        def __init__(self, n_classes):
            super().__init__()
            self.body = models.efficientnet_b0(weights="IMAGENET1K_V1")
            self.body.classifier = nn.Linear(1280, n_classes)
            self.out = nn.Softmax(dim=1)

        def forward(self, x):
            return self.out(self.body(x))  # expect: double-softmax

    tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.ToTensor(),
                             transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    loader = DataLoader(datasets.ImageFolder(f"{args.data}/train", tf), batch_size=32, shuffle=True)
    net = FlowerNet(5)
    loss_fn = nn.CrossEntropyLoss()  # expect: double-softmax
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)

    def one_epoch():
        net.train()
        for x, y in loader:
            loss = loss_fn(net(x), y)
            opt.zero_grad()
            loss.backward()
            opt.step()

    for _ in range(args.epochs):
        one_epoch()


if __name__ == "__main__":
    main()
