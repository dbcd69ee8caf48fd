import os
import shutil

import pandas as pd
import torch
from torchvision import datasets, transforms

df = pd.read_csv("train.csv")
for _, row in df.iterrows():
    folder = os.path.join("data/train", str(row["label"]))
    os.makedirs(folder, exist_ok=True)
    shutil.copy(row["path"], folder)

train_set = datasets.ImageFolder("data/train", transform=transforms.ToTensor())
train_loader = torch.utils.data.DataLoader(train_set, batch_size=64, shuffle=True)
# ... training ...
model.eval()
preds = []
with torch.no_grad():
    for x, _ in test_loader:
        preds.extend(train_set.classes[i] for i in model(x).argmax(1).tolist())
pd.DataFrame({"id": ids, "label": preds}).to_csv("submission.csv", index=False)
