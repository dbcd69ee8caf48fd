import os
import sys

import numpy as np
import torch
from PIL import Image
from torchvision import transforms

val_dir = sys.argv[1]
batch_size = 100

preprocess = transforms.Compose([
    transforms.Resize(256),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])

files = []
labels = []
class_dirs = [entry for entry in os.scandir(val_dir) if entry.is_dir()]
for label, class_dir in enumerate(class_dirs):
    for entry in os.scandir(class_dir.path):
        files.append(entry.path)
        labels.append(label)
labels = np.array(labels)

model = torch.load("mobilenetv1_w4a4_imagenet.pt")
model.eval()

correct = 0
with torch.no_grad():
    for start in range(0, len(files), batch_size):
        batch = [preprocess(Image.open(f).convert("RGB")) for f in files[start:start + batch_size]]
        out = model(torch.stack(batch))
        pred = out.argmax(dim=1).numpy()
        correct += (pred == labels[start:start + batch_size]).sum()

print("top-1 accuracy: %.4f" % (correct / len(files)))
