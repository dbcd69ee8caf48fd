import os
import random

import numpy as np
import torch
import torch.utils.data as data
from torchvision import datasets, transforms

import arguments
import model
import vgg
from custom_datasets import *
from solver import Solver
from utils import *


def cifar_tf():
    return transforms.Compose([
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
    ])


def main(args):
    if args.dataset == 'cifar10':
        test_loader = data.DataLoader(
            datasets.CIFAR10(args.data_path, train=False, download=True, transform=cifar_tf()),
            batch_size=args.batch_size, drop_last=False)
        train_set = CIFAR10(args.data_path)
        args.num_images, args.num_classes = 50000, 10
        args.initial_budget, args.budget = 5000, 2500
    elif args.dataset == 'cifar100':
        test_loader = data.DataLoader(
            datasets.CIFAR100(args.data_path, train=False, download=True, transform=cifar_tf()),
            batch_size=args.batch_size, drop_last=False)
        train_set = CIFAR100(args.data_path)
        args.num_images, args.num_classes = 50000, 100
        args.initial_budget, args.budget = 5000, 2500
    else:
        raise NotImplementedError(args.dataset)

    everything = set(np.arange(args.num_images))
    labeled = list(random.sample(everything, args.initial_budget))
    labeled_loader = data.DataLoader(train_set, sampler=data.sampler.SubsetRandomSampler(labeled),
                                     batch_size=args.batch_size, drop_last=True)

    args.cuda = args.cuda and torch.cuda.is_available()
    solver = Solver(args, test_loader)

    results = []
    for frac in [0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4]:
        # fresh models for every round
        task_model = vgg.vgg16_bn(num_classes=args.num_classes)
        vae = model.VAE(args.latent_dim)
        disc = model.Discriminator(args.latent_dim)

        pool = np.setdiff1d(list(everything), labeled)
        pool_loader = data.DataLoader(train_set, sampler=data.sampler.SubsetRandomSampler(pool),
                                      batch_size=args.batch_size, drop_last=False)

        acc, vae, disc = solver.train(labeled_loader, task_model, vae, disc, pool_loader)

        print('accuracy with {}% labeled: {:.2f}'.format(int(frac * 100), acc))
        results.append(acc)

        labeled = labeled + list(solver.sample_for_labeling(vae, disc, pool_loader))
        labeled_loader = data.DataLoader(train_set, sampler=data.sampler.SubsetRandomSampler(labeled),
                                         batch_size=args.batch_size, drop_last=True)

    torch.save(results, os.path.join(args.out_path, args.log_name))


if __name__ == '__main__':
    main(arguments.get_args())
