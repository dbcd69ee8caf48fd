import torch
import torch.nn as nn
import torchvision.transforms as T
from PIL import Image
from torchvision.models import resnet50

net = resnet50(pretrained=True)
net.fc = nn.Linear(2048, 128)
for name, module in net.named_children():
    if name != 'fc':
        for p in module.parameters():
            p.requires_grad = False

opt = torch.optim.SGD([p for p in net.parameters() if p.requires_grad], lr=0.01, momentum=0.9)

prep = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                  T.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
img = prep(Image.open('anchor.jpg').convert('RGB')).unsqueeze(0)

net.train()
# mining pass: several forward passes, no loss.backward(), no opt.step()
for it in range(20):
    with torch.no_grad():
        emb_train = net(img)
        emb_val = net(img)
    print(it, emb_val.norm().item())
