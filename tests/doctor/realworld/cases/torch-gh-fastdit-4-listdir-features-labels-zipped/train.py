import argparse
import os

import numpy as np
import torch
from diffusers.models import AutoencoderKL
from torch.utils.data import DataLoader, Dataset

from diffusion import create_diffusion
from models import DiT_models


class FeatureDataset(Dataset):
    def __init__(self, features_dir, labels_dir):
        self.features_dir = features_dir
        self.labels_dir = labels_dir
        self.features_files = os.listdir(features_dir)
        self.labels_files = os.listdir(labels_dir)

    def __len__(self):
        assert len(self.features_files) == len(self.labels_files)
        return len(self.features_files)

    def __getitem__(self, idx):
        features = np.load(os.path.join(self.features_dir, self.features_files[idx]))
        labels = np.load(os.path.join(self.labels_dir, self.labels_files[idx]))
        return torch.from_numpy(features), torch.from_numpy(labels)


def main(args):
    device = "cuda"
    model = DiT_models[args.model](input_size=args.image_size // 8, num_classes=1000).to(device)
    vae = AutoencoderKL.from_pretrained("stabilityai/sd-vae-ft-ema").to(device)
    diffusion = create_diffusion(timestep_respacing="")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0)

    features_dir = f"{args.feature_path}/imagenet256_features"
    labels_dir = f"{args.feature_path}/imagenet256_labels"
    dataset = FeatureDataset(features_dir, labels_dir)
    loader = DataLoader(dataset, batch_size=256, shuffle=True, num_workers=4, drop_last=True)

    model.train()
    for epoch in range(args.epochs):
        for x, y in loader:
            x = x.to(device).squeeze(dim=1)
            y = y.to(device).squeeze(dim=1)
            t = torch.randint(0, diffusion.num_timesteps, (x.shape[0],), device=device)
            loss = diffusion.training_losses(model, x, t, dict(y=y))["loss"].mean()
            opt.zero_grad()
            loss.backward()
            opt.step()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--feature-path", type=str, default="features")
    parser.add_argument("--model", type=str, default="DiT-XL/2")
    parser.add_argument("--image-size", type=int, default=256)
    parser.add_argument("--epochs", type=int, default=1400)
    main(parser.parse_args())
