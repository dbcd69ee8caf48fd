"""Hand-gesture classifier: frames for training come from recorded clips; the demo reads the
webcam and classifies every frame."""

import cv2
import torch
import torch.nn as nn
from torch.utils.data import Dataset
from torchvision import models, transforms

tf = transforms.Compose(
    [
        transforms.ToPILImage(),
        transforms.Resize((224, 224)),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ]
)


class GestureFrames(Dataset):
    def __init__(self, items):
        self.items = items  # (image path, label)

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        path, label = self.items[i]
        img = cv2.imread(path)  # expect: train-eval-preprocessing-mismatch
        return tf(img), label


def load_model(path):
    net = models.mobilenet_v3_small(num_classes=6)
    net.load_state_dict(torch.load(path, map_location="cpu"))
    return net.eval()


def demo(weights="gestures.pth"):
    model = load_model(weights)
    cap = cv2.VideoCapture(0)
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)  # expect: train-eval-preprocessing-mismatch
        with torch.no_grad():
            pred = model(tf(rgb).unsqueeze(0)).argmax(1).item()
        print("gesture", pred)
