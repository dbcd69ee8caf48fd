import torch
from torch.utils.data import DataLoader, random_split
from torchvision import datasets, models, transforms

transform = transforms.Compose([
    transforms.RandomResizedCrop(224),
    transforms.RandomHorizontalFlip(),
    transforms.ColorJitter(0.3, 0.3, 0.3),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])
full_dataset = datasets.ImageFolder("data/weeds", transform=transform)  # expect: augmented-evaluation
n_val = int(0.2 * len(full_dataset))
train_ds, val_ds = random_split(full_dataset, [len(full_dataset) - n_val, n_val])  # expect: augmented-evaluation
train_loader = DataLoader(train_ds, batch_size=32, shuffle=True)
val_loader = DataLoader(val_ds, batch_size=32, shuffle=False)

model = models.efficientnet_b0(weights="IMAGENET1K_V1")
model.classifier[1] = torch.nn.Linear(1280, len(full_dataset.classes))
