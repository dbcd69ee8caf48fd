import torch
import mnist
import mnistm
import model
import train
from utils import get_free_gpu

run_name = 'exp1'


def main():
    src_loader = mnist.mnist_train_loader
    tgt_loader = mnistm.mnistm_train_loader

    if not torch.cuda.is_available():
        print("No GPU found")
        return

    get_free_gpu()
    print('Using GPU {}'.format(torch.cuda.current_device()))
    encoder = model.Extractor().cuda()
    classifier = model.Classifier().cuda()
    discriminator = model.Discriminator().cuda()
    train.source_only(encoder, classifier, src_loader, tgt_loader, run_name)
    train.dann(encoder, classifier, discriminator, src_loader, tgt_loader, run_name)


if __name__ == "__main__":
    main()
