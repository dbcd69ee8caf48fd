"""Retrain the searched cell from scratch on the full training set."""
import os
import torch
import torch.nn as nn
import numpy as np
from tensorboardX import SummaryWriter
from config import AugmentConfig
import utils
from models.augment_cnn import AugmentCNN


config = AugmentConfig()

device = torch.device("cuda")

tb = SummaryWriter(log_dir=os.path.join(config.path, "tb"))
tb.add_text('config', config.as_markdown(), 0)

logger = utils.get_logger(os.path.join(config.path, "{}.log".format(config.name)))
config.print_params(logger.info)


def main():
    logger.info("start")

    torch.cuda.set_device(config.gpus[0])
    np.random.seed(config.seed)
    torch.manual_seed(config.seed)
    torch.cuda.manual_seed_all(config.seed)
    torch.backends.cudnn.benchmark = True

    input_size, input_channels, n_classes, train_data, valid_data = utils.get_data(
        config.dataset, config.data_path, config.cutout_length, validation=True)

    criterion = nn.CrossEntropyLoss().to(device)
    use_aux = config.aux_weight > 0.
    model = AugmentCNN(input_size, input_channels, config.init_channels, n_classes, config.layers,
                       use_aux, config.genotype)
    model = nn.DataParallel(model, device_ids=config.gpus).to(device)

    size_mb = utils.param_size(model)
    logger.info("params: {:.3f} MB".format(size_mb))

    optimizer = torch.optim.SGD(model.parameters(), config.lr, momentum=config.momentum,
                                weight_decay=config.weight_decay)

    train_loader = torch.utils.data.DataLoader(train_data,
                                               batch_size=config.batch_size,
                                               shuffle=False,
                                               num_workers=config.workers,
                                               pin_memory=True)
    valid_loader = torch.utils.data.DataLoader(valid_data,
                                               batch_size=config.batch_size,
                                               shuffle=False,
                                               num_workers=config.workers,
                                               pin_memory=True)
    lr_scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, config.epochs)

    best_acc = 0.
    for epoch in range(config.epochs):
        lr_scheduler.step()
        p_drop = config.drop_path_prob * epoch / config.epochs
        model.module.drop_path_prob(p_drop)

        train(train_loader, model, optimizer, criterion, epoch)

        gstep = (epoch + 1) * len(train_loader)
        acc1 = validate(valid_loader, model, criterion, epoch, gstep)

        if best_acc < acc1:
            best_acc = acc1
            improved = True
        else:
            improved = False
        utils.save_checkpoint(model, config.path, improved)

        print("")

    logger.info("best top-1 {:.4%}".format(best_acc))


def train(train_loader, model, optimizer, criterion, epoch):
    acc1 = utils.AverageMeter()
    acc5 = utils.AverageMeter()
    loss_meter = utils.AverageMeter()

    gstep = epoch * len(train_loader)
    lr_now = optimizer.param_groups[0]['lr']
    logger.info("epoch {} lr {}".format(epoch, lr_now))
    tb.add_scalar('train/lr', lr_now, gstep)

    model.train()

    for step, (X, y) in enumerate(train_loader):
        X, y = X.to(device, non_blocking=True), y.to(device, non_blocking=True)
        N = X.size(0)

        optimizer.zero_grad()
        logits, aux_logits = model(X)
        loss = criterion(logits, y)
        if config.aux_weight > 0.:
            loss += config.aux_weight * criterion(aux_logits, y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), config.grad_clip)
        optimizer.step()

        prec1, prec5 = utils.accuracy(logits, y, topk=(1, 5))
        loss_meter.update(loss.item(), N)
        acc1.update(prec1.item(), N)
        acc5.update(prec5.item(), N)

        if step % config.print_freq == 0 or step == len(train_loader) - 1:
            logger.info(
                "train [{:3d}/{}] {:03d}/{:03d} loss {loss_meter.avg:.3f} "
                "acc ({acc1.avg:.1%}, {acc5.avg:.1%})".format(
                    epoch + 1, config.epochs, step, len(train_loader) - 1, loss_meter=loss_meter,
                    acc1=acc1, acc5=acc5))

        tb.add_scalar('train/loss', loss.item(), gstep)
        gstep += 1


def validate(valid_loader, model, criterion, epoch, gstep):
    acc1 = utils.AverageMeter()
    acc5 = utils.AverageMeter()
    loss_meter = utils.AverageMeter()

    model.eval()

    with torch.no_grad():
        for step, (X, y) in enumerate(valid_loader):
            X, y = X.to(device, non_blocking=True), y.to(device, non_blocking=True)
            N = X.size(0)
            logits, _ = model(X)
            loss = criterion(logits, y)
            prec1, prec5 = utils.accuracy(logits, y, topk=(1, 5))
            loss_meter.update(loss.item(), N)
            acc1.update(prec1.item(), N)
            acc5.update(prec5.item(), N)

    logger.info("valid [{:3d}/{}] top-1 {:.4%}".format(epoch + 1, config.epochs, acc1.avg))
    tb.add_scalar('val/loss', loss_meter.avg, gstep)
    tb.add_scalar('val/acc1', acc1.avg, gstep)
    return acc1.avg


if __name__ == "__main__":
    main()
