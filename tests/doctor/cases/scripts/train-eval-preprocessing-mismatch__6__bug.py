import numpy as np
import torch
from PIL import Image
from torchvision import datasets, models, transforms

tf = transforms.Compose(  # expect: train-eval-preprocessing-mismatch
    [
        transforms.Resize((224, 224)),
        transforms.ToTensor(),
        transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
    ]
)
train_set = datasets.ImageFolder("data/train", tf)
train_loader = torch.utils.data.DataLoader(train_set, batch_size=16, shuffle=True)
model = models.resnet18(weights="IMAGENET1K_V1")
model.fc = torch.nn.Linear(512, 2)
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
for x, y in train_loader:
    loss = torch.nn.functional.cross_entropy(model(x), y)
    optimizer.zero_grad()
    loss.backward()
    optimizer.step()

model.eval()
img = Image.open("x.jpg").convert("RGB").resize((224, 224))
x = torch.from_numpy(np.array(img) / 255.0).permute(2, 0, 1).float().unsqueeze(0)  # expect: train-eval-preprocessing-mismatch
with torch.no_grad():
    print(model(x).argmax(1))
