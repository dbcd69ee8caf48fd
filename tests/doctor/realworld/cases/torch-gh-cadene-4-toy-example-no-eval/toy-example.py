import sys
import torch
import torchvision.transforms as transforms
from PIL import Image

sys.path.append('../pretrained-models.pytorch')
import pretrainedmodels

# build the network
arch = 'inceptionresnetv2'  # or 'inceptionv4'
model = pretrainedmodels.__dict__[arch](num_classes=1000,
                                        pretrained='imagenet')

# read a test picture
img_path = 'data/cat.jpg'
with open(img_path, 'rb') as fh:
    with Image.open(fh) as im:
        x = im.convert(model.input_space)

preprocess = transforms.Compose([
    transforms.Scale(round(max(model.input_size) * 1.143)),
    transforms.CenterCrop(max(model.input_size)),
    transforms.ToTensor(),
    transforms.Normalize(mean=model.mean, std=model.std),
])

x = preprocess(x)       # C x H x W -> 3 x 299 x 299
x = x.unsqueeze(0)      # add the batch dimension
x = torch.autograd.Variable(x)

# class names (1001 lines, first one is background)
with open('data/imagenet_synsets.txt', 'rb') as fh:
    names = fh.readlines()
names = [n.strip() for n in names]

# forward pass
logits = model(x)
_, top = logits.data.squeeze().max(0)
print(img_path, 'is a', names[top[0] + 1])
