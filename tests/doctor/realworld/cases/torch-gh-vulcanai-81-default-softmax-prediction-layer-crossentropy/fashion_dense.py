import torch
import torchvision.transforms as transforms
from torch.utils.data import DataLoader
from torchvision.datasets import FashionMNIST

from models import DenseNet

transform = transforms.Compose([transforms.ToTensor(),
                                transforms.Normalize((0.1307,), (0.3081,))])

data_path = "../data"
train_dataset = FashionMNIST(root=data_path, train=True, transform=transform, download=True)
val_dataset = FashionMNIST(root=data_path, train=False, transform=transform)

batch_size = 100
train_loader = DataLoader(dataset=train_dataset, batch_size=batch_size, shuffle=True)
val_loader = DataLoader(dataset=val_dataset, batch_size=batch_size, shuffle=False)

dense_config = {
    'dense_units': [100, 50],
    'dropout': 0.5,
}

dense_model = DenseNet(
    name='dense_model',
    in_dim=784,
    config=dense_config,
    num_classes=10,
)

dense_model.fit(train_loader, val_loader, epochs=3)
torch.save(dense_model.state_dict(), 'dense_model.pt')
