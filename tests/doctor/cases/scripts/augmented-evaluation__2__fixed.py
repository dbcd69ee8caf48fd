import torch
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, models, transforms

normalize = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
train_transform = transforms.Compose([
    transforms.RandomResizedCrop(224),
    transforms.RandomHorizontalFlip(),
    transforms.ColorJitter(0.3, 0.3, 0.3),
    transforms.ToTensor(),
    normalize,
])
val_transform = transforms.Compose([
    transforms.Resize(256),
    transforms.CenterCrop(224),
    transforms.ToTensor(),
    normalize,
])
full_dataset = datasets.ImageFolder("data/weeds")
n_val = int(0.2 * len(full_dataset))
order = torch.randperm(len(full_dataset), generator=torch.Generator().manual_seed(0)).tolist()
train_ds = Subset(datasets.ImageFolder("data/weeds", transform=train_transform), order[n_val:])
val_ds = Subset(datasets.ImageFolder("data/weeds", transform=val_transform), order[:n_val])
train_loader = DataLoader(train_ds, batch_size=32, shuffle=True)
val_loader = DataLoader(val_ds, batch_size=32, shuffle=False)

model = models.efficientnet_b0(weights="IMAGENET1K_V1")
model.classifier[1] = torch.nn.Linear(1280, len(full_dataset.classes))
