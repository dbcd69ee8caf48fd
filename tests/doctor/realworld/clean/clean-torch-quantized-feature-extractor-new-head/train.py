"""Transfer learning on a quantized ResNet-18 feature extractor, training only a new float head.

The quantized backbone is frozen and used in eval mode; only the new classifier is optimised.
Training and validation use the ImageNet mean/std the backbone was trained with; only the
training split is randomly augmented and shuffled.
"""
import copy
import time

import torch
from torch import nn, optim
from torch.optim import lr_scheduler
from torchvision import datasets, models, transforms

torch.backends.quantized.engine = "qnnpack" if "qnnpack" in torch.backends.quantized.supported_engines else "fbgemm"

MEAN, STD = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
data_transforms = {
    "train": transforms.Compose([
        transforms.RandomResizedCrop(224),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD),
    ]),
    "val": transforms.Compose([
        transforms.Resize(256),
        transforms.CenterCrop(224),
        transforms.ToTensor(),
        transforms.Normalize(MEAN, STD),
    ]),
}
data_dir = "data/hymenoptera_data"
image_datasets = {x: datasets.ImageFolder(f"{data_dir}/{x}", data_transforms[x]) for x in ["train", "val"]}
assert image_datasets["train"].classes == image_datasets["val"].classes
dataloaders = {
    "train": torch.utils.data.DataLoader(image_datasets["train"], batch_size=16, shuffle=True, num_workers=4),
    "val": torch.utils.data.DataLoader(image_datasets["val"], batch_size=16, shuffle=False, num_workers=4),
}
dataset_sizes = {x: len(image_datasets[x]) for x in ["train", "val"]}
class_names = image_datasets["train"].classes
device = torch.device("cpu")  # quantized kernels run on the CPU


def create_combined_model(model_fe, num_classes):
    num_ftrs = model_fe.fc.in_features
    model_fe_features = nn.Sequential(
        model_fe.quant,  # quantize the input
        model_fe.conv1, model_fe.bn1, model_fe.relu, model_fe.maxpool,
        model_fe.layer1, model_fe.layer2, model_fe.layer3, model_fe.layer4,
        model_fe.avgpool,
        model_fe.dequant,  # back to float for the new head
    )
    new_head = nn.Sequential(nn.Dropout(p=0.5), nn.Linear(num_ftrs, num_classes))
    return nn.Sequential(model_fe_features, nn.Flatten(1), new_head)


model_fe = models.quantization.resnet18(weights=models.quantization.ResNet18_QuantizedWeights.DEFAULT, quantize=True)
model = create_combined_model(model_fe, len(class_names)).to(device)
for param in model[0].parameters():
    param.requires_grad = False

criterion = nn.CrossEntropyLoss()
optimizer = optim.SGD(model[2].parameters(), lr=0.01, momentum=0.9)
scheduler = lr_scheduler.StepLR(optimizer, step_size=7, gamma=0.1)


def train_model(model, criterion, optimizer, scheduler, num_epochs=25):
    since = time.time()
    best_wts = copy.deepcopy(model.state_dict())
    best_acc = 0.0
    for epoch in range(num_epochs):
        for phase in ["train", "val"]:
            if phase == "train":
                model.train()
                model[0].eval()  # the quantized, frozen backbone stays in inference mode
            else:
                model.eval()
            running_loss, running_corrects = 0.0, 0
            for inputs, labels in dataloaders[phase]:
                inputs, labels = inputs.to(device), labels.to(device)
                optimizer.zero_grad()
                with torch.set_grad_enabled(phase == "train"):
                    outputs = model(inputs)
                    loss = criterion(outputs, labels)
                    preds = outputs.argmax(1)
                    if phase == "train":
                        loss.backward()
                        optimizer.step()
                running_loss += loss.item() * inputs.size(0)
                running_corrects += (preds == labels).sum().item()
            if phase == "train":
                scheduler.step()
            epoch_loss = running_loss / dataset_sizes[phase]
            epoch_acc = running_corrects / dataset_sizes[phase]
            print(f"Epoch {epoch}/{num_epochs - 1} {phase} Loss: {epoch_loss:.4f} Acc: {epoch_acc:.4f}")
            if phase == "val" and epoch_acc > best_acc:
                best_acc = epoch_acc
                best_wts = copy.deepcopy(model.state_dict())
    print(f"Training complete in {time.time() - since:.0f}s, best val Acc: {best_acc:.4f}")
    model.load_state_dict(best_wts)
    return model


model = train_model(model, criterion, optimizer, scheduler, num_epochs=25)
