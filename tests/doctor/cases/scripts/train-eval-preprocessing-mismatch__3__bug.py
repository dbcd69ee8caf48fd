import torch
import torchvision
import torchvision.transforms as T
from torch.utils.data import DataLoader

train_transform = T.Compose([  # expect: train-eval-preprocessing-mismatch
    T.RandomResizedCrop(224),
    T.RandomHorizontalFlip(),
    T.ToTensor(),
    T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
])
val_transform = T.Compose([  # expect: train-eval-preprocessing-mismatch
    T.Resize(256),
    T.CenterCrop(224),
    T.ToTensor(),
])
train_set = torchvision.datasets.ImageFolder("birds/train", transform=train_transform)
val_set = torchvision.datasets.ImageFolder("birds/val", transform=val_transform)
train_loader = DataLoader(train_set, batch_size=64, shuffle=True, num_workers=8)
val_loader = DataLoader(val_set, batch_size=64, num_workers=8)

model = torchvision.models.resnet34(weights="DEFAULT")
model.fc = torch.nn.Linear(model.fc.in_features, 200)
