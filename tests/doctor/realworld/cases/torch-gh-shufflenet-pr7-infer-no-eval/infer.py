import argparse
import json

import numpy as np
import torch
from PIL import Image
from torch.autograd import Variable
from torchvision import transforms

from model import ShuffleNet


def build_transform():
  norm = transforms.Normalize(mean=[0.485, 0.456, 0.406],
                              std=[0.229, 0.224, 0.225])
  return transforms.Compose([
      transforms.Resize(128),
      transforms.CenterCrop(128),
      transforms.ToTensor(),
      norm,
  ])


def to_input(img, tf):
  return Variable(tf(img).unsqueeze(0))


def run(args):
  print('Building ShuffleNet')
  net = ShuffleNet(num_classes=args.num_classes, in_channels=3)

  print('Restoring weights from', args.checkpoint)
  state = torch.load(args.checkpoint, map_location=lambda storage, loc: storage)
  net.load_state_dict(state['state_dict'])

  with open(args.class_map) as f:
    idx_to_name = json.load(f)

  tf = build_transform()
  img = Image.open(args.image)
  x = to_input(img, tf)

  print('Classifying {}'.format(args.image))
  out = net(x)
  best = np.argsort(out.data.cpu().numpy().ravel()).tolist()[-5:][::-1]
  print('-' * 40)
  for rank, idx in enumerate(best):
    print('{}.\t{}'.format(rank + 1, idx_to_name[str(idx)][1]))
  print('-' * 40)


if __name__ == '__main__':
  parser = argparse.ArgumentParser()
  parser.add_argument('image', type=str, help='image to classify')
  parser.add_argument('checkpoint', type=str, help='ShuffleNet checkpoint (.pth.tar)')
  parser.add_argument('class_map', type=str, help='JSON file: index -> class name')
  parser.add_argument('--num_classes', type=int, default=1000, help='number of classes')
  run(parser.parse_args())
