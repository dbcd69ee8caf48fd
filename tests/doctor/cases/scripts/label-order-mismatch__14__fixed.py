import os

import pandas as pd
import torch
from torch.utils.data import DataLoader
from torchvision import datasets, models, transforms

tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                         transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
# test images sit in one dummy class folder so that ImageFolder can read them
test_set = datasets.ImageFolder("cassava/test", transform=tf)
test_loader = DataLoader(test_set, batch_size=64, shuffle=False, num_workers=4)

model = models.resnet50(num_classes=5)
model.load_state_dict(torch.load("cassava_resnet50.pt", map_location="cpu"))
model.eval()
preds = []
with torch.no_grad():
    for images, _ in test_loader:
        preds.extend(model(images).argmax(1).tolist())

image_ids = [os.path.basename(path) for path, _ in test_set.samples]  # ImageFolder's order
submission = pd.DataFrame({"image_id": image_ids, "label": preds})
submission.to_csv("submission.csv", index=False)
