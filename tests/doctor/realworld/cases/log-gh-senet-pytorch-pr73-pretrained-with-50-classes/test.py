import torch
from senet.se_resnet import se_resnet50

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
net = se_resnet50(num_classes=50, pretrained=True).to(device)
