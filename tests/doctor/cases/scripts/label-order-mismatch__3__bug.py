import sys

import torch
from PIL import Image
from torchvision import datasets, models, transforms

eval_tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                              transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
train_set = datasets.ImageFolder("animals/train", transform=eval_tf)  # expect: label-order-mismatch
class_names = ["dog", "cat", "horse", "spider"]  # expect: label-order-mismatch

model = models.resnet50(weights=None)
model.fc = torch.nn.Linear(2048, len(class_names))
model.load_state_dict(torch.load("animals.pt"))
model.eval()
with torch.no_grad():
    out = model(eval_tf(Image.open(sys.argv[1]).convert("RGB")).unsqueeze(0))
print("prediction:", class_names[out.argmax(1).item()])
