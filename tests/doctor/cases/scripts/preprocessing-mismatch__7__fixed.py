import torch
from PIL import Image
from torchvision import models

weights = models.ResNet50_Weights.IMAGENET1K_V2
model = models.resnet50(weights=weights)
model.eval()

img = Image.open("cat.jpg").convert("RGB")
x = weights.transforms()(img).unsqueeze(0)
with torch.no_grad():
    probs = model(x).softmax(dim=1)
print(probs.argmax(dim=1).item())
