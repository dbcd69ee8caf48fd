import numpy as np
import torch
import torchfcn
from PIL import Image
from torchvision.transforms import Normalize, ToTensor

bgr_mean = np.array([104.01, 116.67, 122.68])

net = torchfcn.models.FCN8s(n_class=21)
ckpt = torch.load('logs/fcn8s_voc/model_best.pth.tar')
net.load_state_dict(ckpt['model_state_dict'])
net.eval()

photo = Image.open('street_scene.jpg')
arr = np.array(photo)
arr = arr[:, :, ::-1].astype(np.float64)
x = ToTensor()(arr.copy())
x = Normalize(mean=bgr_mean / 255.0, std=[1.0, 1.0, 1.0])(x)
x = x.type(torch.float).unsqueeze(0)

with torch.no_grad():
    score = net(x)
labels = score.data.max(1)[1].cpu().numpy()[0]
print(np.unique(labels))
