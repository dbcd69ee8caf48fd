import torch
import torch.nn as nn
import torchvision
import torchvision.transforms as transforms


device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')

num_epochs = 60
base_lr = 0.001

transform = transforms.Compose([
    transforms.Pad(4),
    transforms.RandomHorizontalFlip(),
    transforms.RandomCrop(32),
    transforms.ToTensor()])

train_dataset = torchvision.datasets.CIFAR10(root='./cifar', train=True,
                                             transform=transform, download=True)
test_dataset = torchvision.datasets.CIFAR10(root='./cifar', train=False,
                                            transform=transforms.ToTensor())

train_loader = torch.utils.data.DataLoader(dataset=train_dataset, batch_size=100, shuffle=True)
test_loader = torch.utils.data.DataLoader(dataset=test_dataset, batch_size=100, shuffle=False)


def conv3(c_in, c_out, stride=1):
    return nn.Conv2d(c_in, c_out, kernel_size=3,
                     stride=stride, padding=1, bias=False)


class BasicBlock(nn.Module):
    def __init__(self, c_in, c_out, stride=1, shortcut=None):
        super(BasicBlock, self).__init__()
        self.conv1 = conv3(c_in, c_out, stride)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = conv3(c_out, c_out)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.shortcut = shortcut

    def forward(self, x):
        skip = x
        out = self.conv1(x)
        out = self.bn1(out)
        out = self.relu(out)
        out = self.conv2(out)
        out = self.bn2(out)
        if self.shortcut:
            skip = self.shortcut(x)
        out += skip
        out = self.relu(out)
        return out


class ResNet(nn.Module):
    def __init__(self, block, layers, num_classes=10):
        super(ResNet, self).__init__()
        self.c_in = 16
        self.conv = conv3(3, 16)
        self.bn = nn.BatchNorm2d(16)
        self.relu = nn.ReLU(inplace=True)
        self.layer1 = self.build_stage(block, 16, layers[0])
        self.layer2 = self.build_stage(block, 32, layers[1], 2)
        self.layer3 = self.build_stage(block, 64, layers[2], 2)
        self.avg_pool = nn.AvgPool2d(8)
        self.fc = nn.Linear(64, num_classes)

    def build_stage(self, block, c_out, blocks, stride=1):
        shortcut = None
        if (stride != 1) or (self.c_in != c_out):
            shortcut = nn.Sequential(
                conv3(self.c_in, c_out, stride=stride),
                nn.BatchNorm2d(c_out))
        layers = []
        layers.append(block(self.c_in, c_out, stride, shortcut))
        self.c_in = c_out
        for i in range(1, blocks):
            layers.append(block(c_out, c_out))
        return nn.Sequential(*layers)

    def forward(self, x):
        out = self.conv(x)
        out = self.bn(out)
        out = self.relu(out)
        out = self.layer1(out)
        out = self.layer2(out)
        out = self.layer3(out)
        out = self.avg_pool(out)
        out = out.view(out.size(0), -1)
        out = self.fc(out)
        return out


model = ResNet(BasicBlock, [2, 2, 2]).to(device)

criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=base_lr)


def set_lr(optimizer, lr):
    for param_group in optimizer.param_groups:
        param_group['lr'] = lr


n_steps = len(train_loader)
lr_now = base_lr
for epoch in range(num_epochs):
    for i, (images, labels) in enumerate(train_loader):
        images = images.to(device)
        labels = labels.to(device)

        outputs = model(images)
        loss = criterion(outputs, labels)

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

        if (i + 1) % 100 == 0:
            print("epoch {}/{} step {}/{} loss {:.4f}"
                  .format(epoch + 1, num_epochs, i + 1, n_steps, loss.item()))

    if (epoch + 1) % 15 == 0:
        lr_now /= 3
        set_lr(optimizer, lr_now)

with torch.no_grad():
    correct = 0
    total = 0
    for images, labels in test_loader:
        images = images.to(device)
        labels = labels.to(device)
        outputs = model(images)
        _, predicted = torch.max(outputs.data, 1)
        total += labels.size(0)
        correct += (predicted == labels).sum().item()

    print('test accuracy: {:.2f} %'.format(100 * correct / total))

torch.save(model.state_dict(), 'cifar_resnet.pt')
