import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

import mnist
import mnistm
import params
import test
import utils
from utils import save_model, set_model_mode, visualize

# domain label: source 0, target 1
src_test_loader = mnist.mnist_test_loader
tgt_test_loader = mnistm.mnistm_test_loader


def source_only(encoder, classifier, src_loader, tgt_loader, run_name):
    print("Training on source only")
    cls_loss_fn = nn.CrossEntropyLoss().cuda()
    optimizer = optim.SGD(list(encoder.parameters()) + list(classifier.parameters()),
                          lr=0.01, momentum=0.9)

    for epoch in range(params.epochs):
        print('epoch {}'.format(epoch))
        set_model_mode('train', [encoder, classifier])
        n_steps = params.epochs * len(tgt_loader)

        for i, ((xs, ys), _) in enumerate(zip(src_loader, tgt_loader)):
            p = float(i + epoch * len(src_loader)) / n_steps
            xs = xs.repeat(1, 3, 1, 1).cuda()  # grey MNIST -> 3 channels
            ys = ys.cuda()

            optimizer = utils.optimizer_scheduler(optimizer=optimizer, p=p)
            optimizer.zero_grad()

            logits = classifier(encoder(xs))
            loss = cls_loss_fn(logits, ys)
            loss.backward()
            optimizer.step()
            if (i + 1) % 100 == 0:
                print('step {}  cls loss {:.5f}'.format(i + 1, loss.item()))

        if (epoch + 1) % 5 == 0:
            test.tester(encoder, classifier, None, src_test_loader, tgt_test_loader, training_mode='source_only')
    save_model(encoder, classifier, None, 'source', run_name)
    visualize(encoder, 'source', run_name)


def dann(encoder, classifier, discriminator, src_loader, tgt_loader, run_name):
    print("Training DANN")
    cls_loss_fn = nn.CrossEntropyLoss().cuda()
    dom_loss_fn = nn.CrossEntropyLoss().cuda()

    optimizer = optim.SGD(list(encoder.parameters()) + list(classifier.parameters())
                          + list(discriminator.parameters()), lr=0.01, momentum=0.9)

    for epoch in range(params.epochs):
        print('epoch {}'.format(epoch))
        set_model_mode('train', [encoder, classifier, discriminator])
        n_steps = params.epochs * len(tgt_loader)

        for i, ((xs, ys), (xt, yt)) in enumerate(zip(src_loader, tgt_loader)):
            p = float(i + epoch * len(src_loader)) / n_steps
            alpha = 2. / (1. + np.exp(-10 * p)) - 1

            xs = xs.repeat(1, 3, 1, 1).cuda()
            ys = ys.cuda()
            xt = xt.cuda()

            optimizer = utils.optimizer_scheduler(optimizer=optimizer, p=p)
            optimizer.zero_grad()

            feat_src = encoder(xs)
            feat_all = encoder(torch.cat((xs, xt), 0))

            # label loss on the source domain
            cls_loss = cls_loss_fn(classifier(feat_src), ys)

            # domain loss on both domains
            dom_pred = discriminator(feat_all, alpha)
            dom_true = torch.cat((torch.zeros(xs.shape[0]), torch.ones(xt.shape[0]))).long().cuda()
            dom_loss = dom_loss_fn(dom_pred, dom_true)

            loss = cls_loss + dom_loss
            loss.backward()
            optimizer.step()

            if (i + 1) % 100 == 0:
                print('step {}  loss {:.5f}  cls {:.5f}  dom {:.5f}'.format(
                    i + 1, loss.item(), cls_loss.item(), dom_loss.item()))

        if (epoch + 1) % 5 == 0:
            test.tester(encoder, classifier, discriminator, src_test_loader, tgt_test_loader, training_mode='dann')

    save_model(encoder, classifier, discriminator, 'source', run_name)
    visualize(encoder, 'source', run_name)
