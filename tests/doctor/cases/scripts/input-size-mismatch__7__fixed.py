import numpy as np
import torch
from PIL import Image
from torchvision import datasets, models, transforms

norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
train_tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
                               transforms.ToTensor(), norm])
train_set = datasets.ImageFolder("data/train", train_tf)
loader = torch.utils.data.DataLoader(train_set, batch_size=32, shuffle=True)
model = models.resnet34(weights="DEFAULT")
model.fc = torch.nn.Linear(512, len(train_set.classes))
opt = torch.optim.Adam(model.fc.parameters(), lr=1e-3)
for epoch in range(5):
    model.train()
    for x, y in loader:
        opt.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        opt.step()

model.eval()
img = Image.open("test.jpg").convert("RGB").resize((224, 224))
x = torch.from_numpy(np.asarray(img, dtype=np.float32) / 255.0).permute(2, 0, 1)
x = norm(x).unsqueeze(0)
with torch.no_grad():
    print(train_set.classes[model(x).argmax(1).item()])
