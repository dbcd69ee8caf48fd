import argparse
import logging
import math
import os
import time
from pathlib import Path

import numpy as np
import torch.optim as optim
import torch.utils.data
import yaml
from torch.cuda import amp
from torch.optim.lr_scheduler import LambdaLR
from torch.utils.tensorboard import SummaryWriter
from tqdm import tqdm

import test  # val mAP every epoch
from models.yolo import Model
from utils.datasets import create_dataloader
from utils.general import (check_dataset, check_file, check_img_size, compute_loss, fitness, increment_dir,
                           init_seeds, labels_to_class_weights, set_logging, strip_optimizer)
from utils.google_utils import attempt_download
from utils.torch_utils import ModelEMA, intersect_dicts, select_device

log = logging.getLogger(__name__)


def load_model(opt, nc, device):
    if not opt.weights.endswith('.pt'):
        return Model(opt.cfg, ch=3, nc=nc).to(device), None
    attempt_download(opt.weights)
    ckpt = torch.load(opt.weights, map_location=device)
    model = Model(opt.cfg or ckpt['model'].yaml, ch=3, nc=nc).to(device)
    sd = intersect_dicts(ckpt['model'].float().state_dict(), model.state_dict(),
                         exclude=['anchor'] if opt.cfg else [])
    model.load_state_dict(sd, strict=False)
    log.info('loaded %g/%g tensors from %s' % (len(sd), len(model.state_dict()), opt.weights))
    return model, ckpt


def train(hyp, opt, device, tb_writer=None):
    save_dir = Path(tb_writer.log_dir) if tb_writer else Path(opt.logdir) / 'evolve'
    wdir = save_dir / 'weights'
    wdir.mkdir(parents=True, exist_ok=True)
    last_pt, best_pt, results_txt = wdir / 'last.pt', wdir / 'best.pt', save_dir / 'results.txt'
    for name, obj in (('hyp.yaml', hyp), ('opt.yaml', vars(opt))):
        (save_dir / name).write_text(yaml.dump(obj, sort_keys=False))
    log.info('hyp: %s' % hyp)

    use_cuda = device.type != 'cpu'
    init_seeds(0)
    data = yaml.load(open(opt.data), Loader=yaml.FullLoader)
    check_dataset(data)
    nc = 1 if opt.single_cls else int(data['nc'])
    names = ['item'] if opt.single_cls else data['names']

    model, ckpt = load_model(opt, nc, device)

    # Freeze
    freeze = ['', ]  # parameter names (or name fragments) to freeze
    if any(freeze):
        for k, v in model.named_parameters():
            if any(x in k for x in freeze):
                print("freezing", k)
                v.requires_grad = False

    # Optimizer: three groups (no decay / conv weights with decay / biases)
    nbs = 64
    accumulate = max(round(nbs / opt.batch_size), 1)
    hyp['weight_decay'] *= opt.batch_size * accumulate / nbs
    g_plain, g_decay, g_bias = [], [], []
    for k, v in model.named_parameters():
        v.requires_grad = True
        if k.endswith(".bias"):
            g_bias.append(v)
        elif k.endswith(".weight") and ".bn" not in k:
            g_decay.append(v)
        else:
            g_plain.append(v)

    if opt.adam:
        optimizer = optim.Adam(g_plain, lr=hyp['lr0'], betas=(hyp['momentum'], 0.999))
    else:
        optimizer = optim.SGD(g_plain, lr=hyp['lr0'], momentum=hyp['momentum'], nesterov=True)
    optimizer.add_param_group({'params': g_decay, 'weight_decay': hyp['weight_decay']})
    optimizer.add_param_group({'params': g_bias})
    log.info('param groups: %d biases, %d weights with decay, %d other' % (len(g_bias), len(g_decay), len(g_plain)))

    epochs = opt.epochs
    cosine = lambda e: (1 - hyp['lrf']) * (1 + math.cos(math.pi * e / epochs)) / 2 + hyp['lrf']
    scheduler = LambdaLR(optimizer, lr_lambda=cosine)

    first_epoch, best_fit = 0, 0.0
    if ckpt is not None:
        if ckpt.get('optimizer') is not None:
            optimizer.load_state_dict(ckpt['optimizer'])
            best_fit = ckpt['best_fitness']
        first_epoch = ckpt['epoch'] + 1
        if first_epoch > epochs:
            epochs += ckpt['epoch']  # fine-tune for `epochs` more
        del ckpt

    stride = int(max(model.stride))
    imgsz, imgsz_val = [check_img_size(s, stride) for s in opt.img_size]
    ema = ModelEMA(model)
    loader, dataset = create_dataloader(data['train'], imgsz, opt.batch_size, stride, opt, hyp=hyp, augment=True,
                                        cache=opt.cache_images, rect=opt.rect, workers=opt.workers)
    val_loader = create_dataloader(data['val'], imgsz_val, opt.batch_size, stride, opt, hyp=hyp,
                                   augment=False, rect=True, workers=opt.workers)[0]
    nb = len(loader)

    hyp['cls'] *= nc / 80.
    model.nc, model.hyp, model.gr, model.names = nc, hyp, 1.0, names
    model.class_weights = labels_to_class_weights(dataset.labels, nc).to(device)

    n_warm = max(round(hyp['warmup_epochs'] * nb), 1000)
    scheduler.last_epoch = first_epoch - 1
    scaler = amp.GradScaler(enabled=use_cuda)
    results = (0,) * 7
    t_start = time.time()
    for epoch in range(first_epoch, epochs):
        model.train()
        mean_loss = torch.zeros(4, device=device)
        bar = tqdm(enumerate(loader), total=nb)
        for i, (imgs, targets, _, _) in bar:
            it = epoch * nb + i
            imgs = imgs.to(device, non_blocking=True).float() / 255.0
            if it <= n_warm:
                accumulate = max(1, np.interp(it, [0, n_warm], [1, nbs / opt.batch_size]).round())
                for gi, g in enumerate(optimizer.param_groups):
                    start_lr = hyp['warmup_bias_lr'] if gi == 2 else 0.0
                    g['lr'] = np.interp(it, [0, n_warm], [start_lr, g['initial_lr'] * cosine(epoch)])

            with amp.autocast(enabled=use_cuda):
                loss, items = compute_loss(model(imgs), targets.to(device), model)
            scaler.scale(loss).backward()
            if it % accumulate == 0:
                scaler.step(optimizer)
                scaler.update()
                optimizer.zero_grad()
                ema.update(model)

            mean_loss = (mean_loss * i + items) / (i + 1)
            bar.set_description('%g/%g ' % (epoch, epochs - 1) + ' '.join('%.4g' % v for v in mean_loss))

        scheduler.step()
        ema.update_attr(model, include=['yaml', 'nc', 'hyp', 'gr', 'names', 'stride'])
        is_last = epoch == epochs - 1
        if is_last or not opt.notest:
            results, _, _ = test.test(opt.data, batch_size=opt.batch_size, imgsz=imgsz_val, model=ema.ema,
                                      single_cls=opt.single_cls, dataloader=val_loader, save_dir=save_dir)
        with open(results_txt, 'a') as fh:
            fh.write(('%10.4g' * 7) % results + '\n')

        fit = fitness(np.array(results).reshape(1, -1))
        best_fit = max(best_fit, fit)
        if is_last or not opt.nosave:
            state = {'epoch': epoch, 'best_fitness': best_fit, 'model': ema.ema,
                     'optimizer': None if is_last else optimizer.state_dict()}
            torch.save(state, last_pt)
            if fit == best_fit:
                torch.save(state, best_pt)

    for pt in (last_pt, best_pt):
        if pt.exists():
            strip_optimizer(pt)
    log.info('done in %.2f h' % ((time.time() - t_start) / 3600))
    return results


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--weights', default='yolov5s.pt', help='starting weights')
    ap.add_argument('--cfg', default='', help='model yaml')
    ap.add_argument('--data', default='data/custom.yaml', help='dataset yaml')
    ap.add_argument('--hyp', default='data/hyp.finetune.yaml', help='hyperparameter yaml')
    ap.add_argument('--epochs', type=int, default=100)
    ap.add_argument('--batch-size', type=int, default=16)
    ap.add_argument('--img-size', nargs='+', type=int, default=[640, 640])
    ap.add_argument('--rect', action='store_true')
    ap.add_argument('--nosave', action='store_true')
    ap.add_argument('--notest', action='store_true')
    ap.add_argument('--cache-images', action='store_true')
    ap.add_argument('--name', default='')
    ap.add_argument('--device', default='')
    ap.add_argument('--single-cls', action='store_true')
    ap.add_argument('--adam', action='store_true')
    ap.add_argument('--logdir', default='runs/')
    ap.add_argument('--workers', type=int, default=8)
    opt = ap.parse_args()
    set_logging(-1)

    opt.data, opt.cfg, opt.hyp = check_file(opt.data), check_file(opt.cfg), check_file(opt.hyp)
    opt.img_size += [opt.img_size[-1]] * (2 - len(opt.img_size))
    run_dir = increment_dir(Path(opt.logdir) / 'exp', opt.name)
    dev = select_device(opt.device, batch_size=opt.batch_size)
    hyp = yaml.load(open(opt.hyp), Loader=yaml.FullLoader)
    train(hyp, opt, dev, SummaryWriter(log_dir=run_dir))
