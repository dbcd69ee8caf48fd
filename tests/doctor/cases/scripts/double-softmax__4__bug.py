from collections import OrderedDict

import torch
from torch import nn, optim

for param in model.parameters():
    param.requires_grad = False

classifier = nn.Sequential(
    OrderedDict(
        [
            ("fc1", nn.Linear(25088, 4096)),
            ("relu", nn.ReLU()),
            ("drop", nn.Dropout(p=0.5)),
            ("fc2", nn.Linear(4096, 102)),
            ("output", nn.Softmax(dim=1)),  # expect: double-softmax
        ]
    )
)
model.classifier = classifier
criterion = nn.CrossEntropyLoss()
optimizer = optim.Adam(model.classifier.parameters(), lr=0.001)

for e in range(epochs):
    for images, labels in trainloader:
        optimizer.zero_grad()
        output = model.forward(images)
        loss = criterion(output, labels)  # expect: double-softmax
        loss.backward()
        optimizer.step()
