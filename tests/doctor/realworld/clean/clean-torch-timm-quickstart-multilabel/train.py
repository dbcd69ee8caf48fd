"""Multi-label fine-tuning of a timm backbone (several tags per image).

One logit per tag with BCEWithLogitsLoss; probabilities come from a sigmoid only at
prediction time. Data transforms are resolved from the model's pretrained config.
"""
import csv

import timm
import torch
from PIL import Image
from sklearn.metrics import average_precision_score
from timm.data import create_transform, resolve_data_config
from torch import nn
from torch.utils.data import DataLoader, Dataset


class TaggedImages(Dataset):
    """Rows of `path,tag1|tag2|...`; tags are mapped to a fixed, sorted vocabulary."""

    def __init__(self, csv_path, tags, transform):
        with open(csv_path, newline="") as f:
            self.rows = [(r[0], r[1].split("|") if r[1] else []) for r in csv.reader(f)]
        self.index = {t: i for i, t in enumerate(tags)}
        self.transform = transform

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        path, tags = self.rows[i]
        target = torch.zeros(len(self.index))
        for t in tags:
            target[self.index[t]] = 1.0
        return self.transform(Image.open(path).convert("RGB")), target


def main():
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    tags = sorted(line.strip() for line in open("data/tags.txt") if line.strip())

    model = timm.create_model("resnet50.a1_in1k", pretrained=True, num_classes=len(tags))
    config = resolve_data_config({}, model=model)
    train_set = TaggedImages("data/train.csv", tags, create_transform(**config, is_training=True))
    val_set = TaggedImages("data/val.csv", tags, create_transform(**config))
    train_loader = DataLoader(train_set, batch_size=48, shuffle=True, num_workers=6, drop_last=True)
    val_loader = DataLoader(val_set, batch_size=96, shuffle=False, num_workers=6)

    model.to(device)
    criterion = nn.BCEWithLogitsLoss()
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.01)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=3e-4, total_steps=15 * len(train_loader))

    for epoch in range(15):
        model.train()
        for images, targets in train_loader:
            images, targets = images.to(device), targets.to(device)
            loss = criterion(model(images), targets)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()

        model.eval()
        scores, truth = [], []
        with torch.no_grad():
            for images, targets in val_loader:
                scores.append(torch.sigmoid(model(images.to(device))).cpu())
                truth.append(targets)
        scores, truth = torch.cat(scores).numpy(), torch.cat(truth).numpy()
        mean_ap = average_precision_score(truth, scores, average="macro")
        print(f"epoch {epoch + 1}: val mAP {mean_ap:.4f}")

    torch.save({"model": model.state_dict(), "tags": tags}, "multilabel_resnet50.pt")


if __name__ == "__main__":
    main()
