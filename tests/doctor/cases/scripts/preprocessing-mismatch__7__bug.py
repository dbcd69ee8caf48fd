import numpy as np
import torch
from PIL import Image
from torchvision import models

model = models.resnet50(weights="IMAGENET1K_V2")  # expect: preprocessing-mismatch
model.eval()

img = Image.open("cat.jpg").convert("RGB").resize((224, 224))
x = torch.from_numpy(np.array(img)).permute(2, 0, 1).float().unsqueeze(0)  # expect: preprocessing-mismatch
with torch.no_grad():
    probs = model(x).softmax(dim=1)
print(probs.argmax(dim=1).item())
