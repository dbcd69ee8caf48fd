# pytorch/examples imagenet/main.py, run as
#   python main.py -a resnet18 --pretrained --evaluate /data/imagenet
# My only change: print a layer summary of the network before evaluating.
import torch
import torch.nn as nn
import torchvision.models as models
from torchsummary import summary


def main_worker(gpu, ngpus_per_node, args):
    if args.pretrained:
        print("=> using pre-trained model '{}'".format(args.arch))
        model = models.__dict__[args.arch](pretrained=True)
    else:
        print("=> creating model '{}'".format(args.arch))
        model = models.__dict__[args.arch]()

    model = model.cuda()
    summary(model, (3, 224, 224))          # <- added: layer table and parameter count

    criterion = nn.CrossEntropyLoss().cuda()
    val_loader = build_val_loader(args)    # Resize(256), CenterCrop(224), ToTensor, Normalize

    if args.evaluate:
        validate(val_loader, model, criterion, args)   # validate() calls model.eval() itself
        return
