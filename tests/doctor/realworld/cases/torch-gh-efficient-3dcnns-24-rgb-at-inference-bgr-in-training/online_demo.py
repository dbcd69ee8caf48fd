import cv2
import numpy as np
import torch
from PIL import Image

from opts import parse_opts
from model import generate_model
from spatial_transforms import Compose, Scale, CenterCrop, ToTensor, Normalize
from mean import get_mean, get_std

opt = parse_opts()
opt.mean = get_mean(opt.norm_value, dataset=opt.mean_dataset)
opt.std = get_std(opt.norm_value)

model, _ = generate_model(opt)
ckpt = torch.load(opt.resume_path)
model.load_state_dict(ckpt['state_dict'])
model.eval()

spatial = Compose([Scale(opt.sample_size), CenterCrop(opt.sample_size),
                   ToTensor(opt.norm_value), Normalize(opt.mean, opt.std)])

cap = cv2.VideoCapture(0)
clip = []
while True:
    ok, frame = cap.read()
    if not ok:
        break
    img_cv = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    clip.append(spatial(Image.fromarray(img_cv)))
    if len(clip) == opt.sample_duration:
        x = torch.stack(clip, 0).permute(1, 0, 2, 3).unsqueeze(0)
        with torch.no_grad():
            out = model(x.cuda())
        label = int(out.argmax(1))
        print('prediction:', label)
        clip = clip[1:]
