# -*- coding: utf-8 -*-
import os

import numpy as np
from torch.utils.data import DataLoader, WeightedRandomSampler
from torch.utils.data.distributed import DistributedSampler
from torchvision import transforms
from torchvision.datasets import CIFAR10, CIFAR100, STL10

from utils import *


def get_dataloaders(args):
    ''' Builds the dataloaders of the chosen dataset. '''
    root = os.path.join(os.path.split(os.getcwd())[0], 'data')

    if args.dataset in ('cifar10', 'cifar100'):
        name = args.dataset.upper()
        args.crop_dim = 32
        args.n_channels = 3
        args.n_classes = 10 if args.dataset == 'cifar10' else 100
        args.class_names = ('plane', 'car', 'bird', 'cat', 'deer',
                            'dog', 'frog', 'horse', 'ship', 'truck') if args.n_classes == 10 else None
        folder = os.path.join(root, name)
        os.makedirs(folder, exist_ok=True)
        paths = {'train': os.path.join(folder, 'train'), 'test': os.path.join(folder, 'test')}
        dataloaders = cifar_dataloader(args, paths)

    elif args.dataset == 'stl10':
        args.crop_dim = 96
        args.n_channels, args.n_classes = 3, 10
        args.class_names = None
        folder = os.path.join(root, 'STL10')
        os.makedirs(folder, exist_ok=True)
        paths = {'train': os.path.join(folder, 'train'), 'test': os.path.join(folder, 'test'),
                 'pretrain': os.path.join(folder, 'unlabeled')}
        dataloaders = stl10_dataloader(args, paths)

    else:
        NotImplementedError('{} is not supported.'.format(args.dataset))

    return dataloaders, args


def make_loaders(args, datasets, samplers):
    if args.distributed:
        samplers = {k: (DistributedSampler(datasets[k]) if k in ('pretrain', 'train', 'train_valid') else None)
                    for k in samplers}
    return {k: DataLoader(datasets[k], sampler=samplers[k], num_workers=8, pin_memory=True,
                          drop_last=True, batch_size=args.batch_size) for k in samplers}


def stl10_dataloader(args, paths):
    ''' STL-10: train / valid / test / unlabeled pretrain loaders. '''
    jitter = transforms.RandomApply([transforms.ColorJitter(
        0.8 * args.jitter_d, 0.8 * args.jitter_d, 0.8 * args.jitter_d, 0.2 * args.jitter_d)], p=args.jitter_p)
    grey = transforms.RandomGrayscale(p=args.grey_p)
    normalize = transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])
    crop = (args.crop_dim, args.crop_dim)
    center = (args.crop_dim * 0.875, args.crop_dim * 0.875)

    tf = {
        'pretrain': transforms.Compose([transforms.ToPILImage(), jitter, grey,
                                        transforms.RandomResizedCrop(crop, scale=(0.008, 1.0)),
                                        transforms.RandomHorizontalFlip(), transforms.ToTensor(), normalize]),
        'train': transforms.Compose([transforms.ToPILImage(),
                                     transforms.RandomResizedCrop(crop, scale=(0.008, 1.0)),
                                     transforms.RandomHorizontalFlip(), transforms.ToTensor(), normalize]),
        'valid': transforms.Compose([transforms.ToPILImage(), transforms.CenterCrop(center),
                                     transforms.Resize(crop), transforms.ToTensor(), normalize]),
        'test': transforms.Compose([transforms.CenterCrop(center), transforms.Resize(crop),
                                    transforms.ToTensor(), normalize]),
    }

    splits = {'train': 'train', 'test': 'test', 'pretrain': 'unlabeled'}
    datasets = {k: STL10(root=paths[k], transform=tf[k], split=s, download=True) for k, s in splits.items()}

    full_weights = sample_weights(datasets['train'].labels)
    data, labels = random_split(data=datasets['train'].data, labels=datasets['train'].labels,
                                n_classes=args.n_classes,
                                n_samples_per_class=np.repeat(50, args.n_classes).reshape(-1))

    datasets['train_valid'] = datasets['train']
    datasets['pretrain'] = CustomDataset(data=datasets['pretrain'].data, labels=None,
                                         transform=tf['pretrain'], two_crop=args.twocrop)
    datasets['train'] = CustomDataset(data=data['train'], labels=labels['train'],
                                      transform=tf['train'], two_crop=False)
    datasets['valid'] = CustomDataset(data=data['valid'], labels=labels['valid'],
                                      transform=tf['valid'], two_crop=False)

    weights = sample_weights(datasets['train'].labels)
    samplers = {
        'pretrain': None,
        'train': WeightedRandomSampler(weights, num_samples=len(weights), replacement=True),
        'train_valid': WeightedRandomSampler(full_weights, num_samples=len(full_weights), replacement=True),
        'valid': None, 'test': None,
    }
    return make_loaders(args, datasets, samplers)


def cifar_dataloader(args, paths):
    ''' CIFAR-10 / CIFAR-100: train / valid / test / pretrain loaders. '''
    jitter = transforms.RandomApply([transforms.ColorJitter(
        0.8 * args.jitter_d, 0.8 * args.jitter_d, 0.8 * args.jitter_d, 0.2 * args.jitter_d)], p=args.jitter_p)
    grey = transforms.RandomGrayscale(p=args.grey_p)

    normalize = transforms.Normalize(mean=[0.24703223, 0.24348513, 0.26158784],
                                     std=[0.24703223, 0.24348513, 0.26158784])
    crop = (args.crop_dim, args.crop_dim)
    center = (args.crop_dim * 0.875, args.crop_dim * 0.875)

    tf = {
        'pretrain': transforms.Compose([transforms.ToPILImage(), jitter, grey,
                                        transforms.RandomResizedCrop(crop),
                                        transforms.RandomHorizontalFlip(), transforms.ToTensor(), normalize]),
        'train': transforms.Compose([transforms.ToPILImage(),
                                     transforms.RandomResizedCrop(crop),
                                     transforms.RandomHorizontalFlip(), transforms.ToTensor(), normalize]),
        'valid': transforms.Compose([transforms.ToPILImage(), transforms.CenterCrop(center),
                                     transforms.Resize(crop), transforms.ToTensor(), normalize]),
        'test': transforms.Compose([transforms.CenterCrop(center), transforms.Resize(crop),
                                    transforms.ToTensor(), normalize]),
    }

    is_train = {'train': True, 'test': False}
    if args.dataset == 'cifar10':
        datasets = {k: CIFAR10(root=paths[k], transform=tf[k], train=t, download=True) for k, t in is_train.items()}
        per_class_val = 500
    else:
        datasets = {k: CIFAR100(root=paths[k], transform=tf[k], train=t, download=True) for k, t in is_train.items()}
        per_class_val = 100

    full_weights = sample_weights(datasets['train'].targets)
    # hold out a class-balanced validation set from the training images
    data, labels = random_split(data=datasets['train'].data, labels=datasets['train'].targets,
                                n_classes=args.n_classes,
                                n_samples_per_class=np.repeat(per_class_val, args.n_classes).reshape(-1))

    datasets['train_valid'] = datasets['train']
    datasets['pretrain'] = CustomDataset(data=data['train'], labels=labels['train'],
                                         transform=tf['pretrain'], two_crop=args.twocrop)
    datasets['train'] = CustomDataset(data=data['train'], labels=labels['train'],
                                      transform=tf['train'], two_crop=False)
    datasets['valid'] = CustomDataset(data=data['valid'], labels=labels['valid'],
                                      transform=tf['valid'], two_crop=False)

    weights = sample_weights(labels['train'])
    samplers = {
        'pretrain': WeightedRandomSampler(weights, num_samples=len(weights), replacement=True),
        'train': WeightedRandomSampler(weights, num_samples=len(weights), replacement=True),
        'train_valid': WeightedRandomSampler(full_weights, num_samples=len(full_weights), replacement=True),
        'valid': None, 'test': None,
    }
    return make_loaders(args, datasets, samplers)
