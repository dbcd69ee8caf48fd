import torch
import torchvision.transforms as transforms
from PIL import Image
from torch.utils.data import DataLoader, Dataset

from src.models import create_model

IMG_SIZE = 448


class CarsTestSet(Dataset):
    def __init__(self, samples, tfs):
        self.samples = samples
        self.tfs = tfs

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, i):
        img_path, label = self.samples[i]
        img = Image.open(img_path).convert("RGB")
        img = self.tfs(img)
        return img, label


tfs = transforms.Compose([
    transforms.Resize(IMG_SIZE),
    transforms.CenterCrop(IMG_SIZE),
    transforms.ToTensor(),
])

samples = []
with open("cars_test_annos.txt") as f:
    for line in f:
        name, cls = line.split()
        samples.append(("cars_test/" + name, int(cls) - 1))

loader = DataLoader(CarsTestSet(samples, tfs), batch_size=32, shuffle=False, num_workers=4)

model = create_model("tresnet_l", num_classes=196)
state = torch.load("tresnet_l_stanford_cars_448.pth", map_location="cpu")
model.load_state_dict(state["model"], strict=True)
model = model.cuda().eval()

preds = []
correct = 0
with torch.no_grad():
    for x, y in loader:
        out = model(x.cuda())
        p = out.argmax(1).cpu()
        preds.extend(p.tolist())
        correct += (p == y).sum().item()

print("top-1:", correct / len(samples))
print("most common predictions:", torch.tensor(preds).bincount().topk(3))
