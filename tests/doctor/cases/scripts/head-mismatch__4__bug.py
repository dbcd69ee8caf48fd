import torch
import torch.nn as nn
from torchvision import models

# train.py
model = models.resnet18(weights="IMAGENET1K_V1")
model.fc = nn.Linear(model.fc.in_features, 5)
optimizer = torch.optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
for images, labels in train_loader:
    optimizer.zero_grad()
    loss = nn.functional.cross_entropy(model(images), labels)
    loss.backward()
    optimizer.step()
torch.save(model.state_dict(), "flowers.pth")

# predict.py
net = models.resnet18()  # expect: head-mismatch
net.load_state_dict(torch.load("flowers.pth"))  # expect: head-mismatch
net.eval()
with torch.no_grad():
    print(net(image).argmax(1))
