# ================================================================== #
#                        Pretrained model                            #
# ================================================================== #

# ImageNet-pretrained ResNet-18 from torchvision.
resnet = torchvision.models.resnet18(pretrained=True)

# Freeze everything; only the new top layer will learn.
for param in resnet.parameters():
    param.requires_grad = False

# New top layer for our own classes.
resnet.fc = nn.Linear(resnet.fc.in_features, 100)

# Try a forward pass.
images = torch.randn(64, 3, 256, 256)
outputs = resnet(images)
print(outputs.size())     # (64, 100)
