import argparse
import os

import numpy as np
import torch
import torchvision.models as models
import torchvision.transforms as transforms
from PIL import Image

from model.model import NIMA

parser = argparse.ArgumentParser()
parser.add_argument('--model', type=str, help='path to pretrained model')
parser.add_argument('--test_images', type=str, help='path to folder containing images')
args = parser.parse_args()

base_model = models.vgg16(pretrained=True)
model = NIMA(base_model)
model.load_state_dict(torch.load(args.model))
print('successfully loaded model')

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
model = model.to(device)
model.eval()

test_transform = transforms.Compose([
    transforms.Scale(256),
    transforms.RandomCrop(224),
    transforms.ToTensor(),
    transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
])

for img_name in sorted(os.listdir(args.test_images)):
    im = Image.open(os.path.join(args.test_images, img_name)).convert('RGB')
    imt = test_transform(im).unsqueeze(dim=0).to(device)
    with torch.no_grad():
        out = model(imt).view(10, 1)
    mean = sum((i + 1) * out[i].item() for i in range(10))
    std = np.sqrt(sum(out[i].item() * ((i + 1) - mean) ** 2 for i in range(10)))
    print(img_name + ' mean: %.3f | std: %.3f' % (mean, std))
