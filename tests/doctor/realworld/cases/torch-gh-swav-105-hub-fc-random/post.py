import torch
net = torch.hub.load('facebookresearch/swav:main', 'resnet50')
