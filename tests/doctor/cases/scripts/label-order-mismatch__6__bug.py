import pandas as pd
import torch
from PIL import Image
from torch.utils.data import DataLoader, Dataset
from torchvision import models, transforms


class TestImages(Dataset):
    def __init__(self, frame, transform):
        self.frame = frame
        self.transform = transform

    def __len__(self):
        return len(self.frame)

    def __getitem__(self, i):
        path = self.frame.iloc[i]["path"]
        return self.transform(Image.open(path).convert("RGB")), path


tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                         transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
frame = pd.read_csv("test.csv")
loader = DataLoader(TestImages(frame, tf), batch_size=32, shuffle=True)  # expect: label-order-mismatch

model = models.resnet50(num_classes=4)
model.load_state_dict(torch.load("best.pt"))
model.eval()
preds = []
with torch.no_grad():
    for images, _ in loader:
        preds.extend(model(images).argmax(1).tolist())  # expect: label-order-mismatch
frame["label"] = preds
frame.to_csv("submission.csv", index=False)
