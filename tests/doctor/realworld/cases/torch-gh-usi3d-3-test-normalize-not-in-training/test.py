from __future__ import print_function
import argparse
import os
import torch
import torchvision.utils as vutils
from torch.autograd import Variable
from torchvision import transforms
from PIL import Image
from utils import get_config
from trainer import UnsupIntrinsicTrainer

parser = argparse.ArgumentParser()
parser.add_argument('--config', type=str, default='configs/intrinsic_MIX.yaml')
parser.add_argument('--input_dir', type=str, default='test_images/')
parser.add_argument('--output_dir', type=str, default='results/')
parser.add_argument('--checkpoint', type=str, default='pretrained/gen-MIX.pt')
opts = parser.parse_args()

config = get_config(opts.config)
trainer = UnsupIntrinsicTrainer(config)
state_dict = torch.load(opts.checkpoint)
trainer.gen_i.load_state_dict(state_dict['i'])
trainer.gen_r.load_state_dict(state_dict['r'])
trainer.gen_s.load_state_dict(state_dict['s'])
trainer.cuda()
trainer.eval()

new_size = config['new_size']
transform = transforms.Compose([transforms.Resize(new_size),
                                transforms.ToTensor(),
                                transforms.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))])

os.makedirs(opts.output_dir, exist_ok=True)
with torch.no_grad():
    for name in sorted(os.listdir(opts.input_dir)):
        img = Variable(transform(Image.open(os.path.join(opts.input_dir, name)).convert('RGB')).unsqueeze(0).cuda())
        content, _ = trainer.gen_i.encode(img)
        refl = trainer.gen_r.decode(content)
        shad = trainer.gen_s.decode(content)
        vutils.save_image(refl.data, os.path.join(opts.output_dir, name[:-4] + '_r.jpg'), padding=0, normalize=True)
        vutils.save_image(shad.data, os.path.join(opts.output_dir, name[:-4] + '_s.jpg'), padding=0, normalize=True)
