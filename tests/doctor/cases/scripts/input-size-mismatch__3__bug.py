import torch
from torchvision import datasets, models, transforms

norm = transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
transform_train = transforms.Compose([  # expect: input-size-mismatch
    transforms.RandomResizedCrop(224),
    transforms.RandomHorizontalFlip(),
    transforms.ToTensor(),
    norm,
])
transform_test = transforms.Compose([  # expect: input-size-mismatch
    transforms.Resize((299, 299)),
    transforms.ToTensor(),
    norm,
])
trainset = datasets.ImageFolder("cars/train", transform=transform_train)
testset = datasets.ImageFolder("cars/test", transform=transform_test)
trainloader = torch.utils.data.DataLoader(trainset, batch_size=32, shuffle=True)
testloader = torch.utils.data.DataLoader(testset, batch_size=32, shuffle=False)

net = models.resnet50(weights="IMAGENET1K_V2")
net.fc = torch.nn.Linear(2048, 196)
