import sys

import torch
from PIL import Image
from torchvision import models, transforms

normalize = transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
train_tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.ToTensor(), normalize])

model = models.resnet18(weights=None)
model.fc = torch.nn.Linear(512, 3)
model.load_state_dict(torch.load("weather_resnet18.pt"))
model.eval()

predict_tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224),
                                 transforms.ToTensor(), normalize])
img = Image.open(sys.argv[1]).convert("RGB")
with torch.no_grad():
    logits = model(predict_tf(img).unsqueeze(0))
print(["cloudy", "rain", "sunrise"][logits.argmax(1).item()])
