import torch
import torch.nn as nn
from torchvision import datasets, models, transforms

num_classes = 5

val_tf = transforms.Compose([
    transforms.Resize(342),
    transforms.CenterCrop(299),
    transforms.ToTensor(),
    transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225]),
])
val_set = datasets.ImageFolder('data/val', val_tf)
val_loader = torch.utils.data.DataLoader(val_set, batch_size=32, shuffle=False, num_workers=4)

model = models.inception_v3()
model.AuxLogits.fc = nn.Linear(model.AuxLogits.fc.in_features, num_classes)
model.fc = nn.Linear(model.fc.in_features, num_classes)
model.load_state_dict(torch.load('inception_ft.pth'))
model = model.cuda()
model.eval()

correct = 0
total = 0
with torch.no_grad():
    for inputs, labels in val_loader:
        inputs, labels = inputs.cuda(), labels.cuda()
        outputs = model(inputs)
        _, preds = torch.max(outputs, 1)
        correct += (preds == labels).sum().item()
        total += labels.size(0)
print('val acc: %.4f' % (correct / total))
