import torch
import torchvision

NUM_CLASSES = 512

model = torchvision.models.segmentation.fcn_resnet101(pretrained=True, num_classes=NUM_CLASSES)
model.train()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
