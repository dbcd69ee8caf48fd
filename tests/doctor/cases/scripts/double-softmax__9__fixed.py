"""Patch matching between two views of an image: a shared encoder scores every patch of view A
against every patch of view B by cosine similarity, and the matching patch is the target."""
import torch
import torch.nn as nn
from torchvision import models


class PatchEncoder(nn.Module):
    def __init__(self, dim=128):
        super().__init__()
        trunk = models.resnet18(weights="IMAGENET1K_V1")
        self.trunk = nn.Sequential(*list(trunk.children())[:-2])
        self.proj = nn.Conv2d(512, dim, 1)

    def forward(self, img):
        z = self.proj(self.trunk(img)).flatten(2)  # (B, dim, patches)
        return nn.functional.normalize(z, dim=1)  # unit vectors: the scores are cosine logits


def build_objective(smoothing):
    return nn.CrossEntropyLoss(label_smoothing=smoothing)


def one_epoch(encoder, pair_loader, loss_fn, opt):
    encoder.train()
    for view_a, view_b in pair_loader:
        za = encoder(view_a)
        zb = encoder(view_b)
        sims = torch.bmm(za.permute(0, 2, 1), zb)
        idx = torch.arange(sims.shape[-1]).repeat(sims.shape[0], 1)
        loss = loss_fn(sims, idx)
        opt.zero_grad()
        loss.backward()
        opt.step()


if __name__ == "__main__":
    encoder = PatchEncoder()
    opt = torch.optim.AdamW(encoder.parameters(), lr=3e-4)
    objective = build_objective(0.1)
    for _ in range(20):
        one_epoch(encoder, pair_loader, objective, opt)
