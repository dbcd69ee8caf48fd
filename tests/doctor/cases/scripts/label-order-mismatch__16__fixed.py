import json

import numpy as np
import torch
from PIL import Image
from torch import nn, optim
from torchvision import datasets, models, transforms

train_tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
                               transforms.ToTensor(),
                               transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
test_tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                              transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
train_data = datasets.ImageFolder("flowers/train", transform=train_tf)
trainloader = torch.utils.data.DataLoader(train_data, batch_size=64, shuffle=True)
with open("cat_to_name.json") as f:
    cat_to_name = json.load(f)

model = models.vgg16(weights="IMAGENET1K_V1")
for p in model.parameters():
    p.requires_grad = False
model.classifier[6] = nn.Linear(4096, 102)
optimizer = optim.Adam(model.classifier[6].parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()
for epoch in range(3):
    model.train()
    for images, labels in trainloader:
        optimizer.zero_grad()
        criterion(model(images), labels).backward()
        optimizer.step()


def predict(image_path, model, topk=5):
    model.eval()
    img = test_tf(Image.open(image_path).convert("RGB")).unsqueeze(0)
    with torch.no_grad():
        probs = torch.softmax(model(img), dim=1)
    top_p, top_idx = probs.topk(topk, dim=1)
    idx_to_class = {v: k for k, v in train_data.class_to_idx.items()}  # index -> folder name
    return top_p[0].numpy(), [idx_to_class[i] for i in top_idx[0].tolist()]


probs, classes = predict("flowers/test/1/image_06743.jpg", model)
print([cat_to_name[str(c)] for c in classes], np.round(probs, 3))
