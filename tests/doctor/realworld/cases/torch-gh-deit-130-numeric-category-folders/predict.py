# my own script, run after: python main.py --model deit_base_patch16_384 --data-set IMNET
#   --data-path /data/products --nb_classes 235 --finetune deit_base_patch16_384.pth
import os
import torch
from PIL import Image
from timm.models import create_model
from torchvision import transforms

model = create_model('deit_base_patch16_384', num_classes=235)
ckpt = torch.load('output/checkpoint.pth', map_location='cpu')
model.load_state_dict(ckpt['model'])
model.eval()

tf = transforms.Compose([
    transforms.Resize(438, interpolation=3),
    transforms.CenterCrop(384),
    transforms.ToTensor(),
    transforms.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
])

test_root = '/data/products/test'
good = total = 0
for category_id in os.listdir(test_root):
    for fname in os.listdir(os.path.join(test_root, category_id)):
        img = Image.open(os.path.join(test_root, category_id, fname)).convert('RGB')
        with torch.no_grad():
            pred = model(tf(img).unsqueeze(0)).argmax(1).item()
        good += int(pred == int(category_id))
        total += 1
print(good, 'correct out of', total)
