import pandas as pd
import torch
from PIL import Image
from torchvision import datasets, models, transforms

tf = transforms.Compose([transforms.Resize((32, 32)), transforms.ToTensor()])
train_data = datasets.ImageFolder("GTSRB/Train", transform=tf)
idx_to_class = {v: int(k) for k, v in train_data.class_to_idx.items()}
model = models.resnet18(num_classes=43)
model.load_state_dict(torch.load("gtsrb.pt"))
model.eval()

test = pd.read_csv("GTSRB/Test.csv")
correct = 0
with torch.no_grad():
    for path, label in zip(test["Path"], test["ClassId"]):
        img = tf(Image.open(path).convert("RGB")).unsqueeze(0)
        pred = idx_to_class[model(img).argmax(1).item()]
        correct += int(pred == label)
print(correct / len(test))
