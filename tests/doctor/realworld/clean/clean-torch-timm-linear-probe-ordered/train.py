"""Linear probe: extract pretrained features once, in order and in eval mode, then fit a
logistic-regression head on them."""
import numpy as np
import timm
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from timm.data import create_transform, resolve_data_config
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder

device = "cuda" if torch.cuda.is_available() else "cpu"
backbone = timm.create_model("resnet50.a1_in1k", pretrained=True, num_classes=0).to(device).eval()
transform = create_transform(**resolve_data_config({}, model=backbone))  # eval transform


@torch.no_grad()
def extract(folder):
    dataset = ImageFolder(folder, transform=transform)
    # shuffle=False so the stacked features keep the order of dataset.targets.
    loader = DataLoader(dataset, batch_size=128, shuffle=False, num_workers=4)
    feats = [backbone(x.to(device)).cpu().numpy() for x, _ in loader]
    return np.concatenate(feats), np.array(dataset.targets), dataset.classes


x_train, y_train, classes = extract("data/train")
x_test, y_test, test_classes = extract("data/test")
assert classes == test_classes

clf = LogisticRegression(max_iter=2000, C=0.5)
clf.fit(x_train, y_train)
pred = clf.predict(x_test)
print(f"linear probe accuracy: {accuracy_score(y_test, pred):.4f} on {len(classes)} classes")
