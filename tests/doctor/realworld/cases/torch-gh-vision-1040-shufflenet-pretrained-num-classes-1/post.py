from torchvision.models import shufflenet_v2_x1_0
model = shufflenet_v2_x1_0(pretrained=True, progress=True, num_classes=1)
