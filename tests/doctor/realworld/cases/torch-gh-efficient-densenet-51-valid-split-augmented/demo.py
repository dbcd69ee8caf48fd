import fire
import os
import time
import torch
from torchvision import datasets, transforms
from models import DenseNet


class Meter(object):
    def __init__(self):
        self.reset()

    def reset(self):
        self.val = 0
        self.avg = 0
        self.sum = 0
        self.count = 0

    def update(self, val, n=1):
        self.val = val
        self.sum += val * n
        self.count += n
        self.avg = self.sum / self.count


def run_epoch(model, loader, optimizer=None, epoch=0, n_epochs=0, print_freq=1):
    training = optimizer is not None
    model.train() if training else model.eval()
    losses, errors = Meter(), Meter()
    with torch.set_grad_enabled(training):
        for batch_idx, (inputs, target) in enumerate(loader):
            if torch.cuda.is_available():
                inputs, target = inputs.cuda(), target.cuda()
            output = model(inputs)
            loss = torch.nn.functional.cross_entropy(output, target)
            batch_size = target.size(0)
            _, pred = output.data.cpu().topk(1, dim=1)
            errors.update(torch.ne(pred.squeeze(), target.cpu()).float().sum().item() / batch_size, batch_size)
            losses.update(loss.item(), batch_size)
            if training:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
    return losses.avg, errors.avg


def train(model, train_set, test_set, save, n_epochs=300, valid_size=5000,
          batch_size=64, lr=0.1, wd=0.0001, momentum=0.9, seed=None):
    if seed is not None:
        torch.manual_seed(seed)

    # hold out valid_size training images for validation
    indices = torch.randperm(len(train_set))
    train_indices = indices[:len(indices) - valid_size]
    train_sampler = torch.utils.data.sampler.SubsetRandomSampler(train_indices)
    valid_indices = indices[len(indices) - valid_size:] if valid_size else None
    valid_sampler = torch.utils.data.sampler.SubsetRandomSampler(valid_indices) if valid_size else None

    train_loader = torch.utils.data.DataLoader(train_set, sampler=train_sampler, batch_size=batch_size,
                                               pin_memory=(torch.cuda.is_available()), num_workers=0)
    test_loader = torch.utils.data.DataLoader(test_set, batch_size=batch_size, shuffle=False,
                                              pin_memory=(torch.cuda.is_available()), num_workers=0)
    if valid_size:
        valid_loader = torch.utils.data.DataLoader(train_set, sampler=valid_sampler, batch_size=batch_size,
                                                   pin_memory=(torch.cuda.is_available()), num_workers=0)
    else:
        valid_loader = None

    net = model.cuda() if torch.cuda.is_available() else model
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum, nesterov=True, weight_decay=wd)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[0.5 * n_epochs, 0.75 * n_epochs], gamma=0.1)

    best_err = 1
    for epoch in range(n_epochs):
        _, train_error = run_epoch(net, train_loader, optimizer, epoch, n_epochs)
        scheduler.step()
        _, valid_error = run_epoch(net, valid_loader if valid_loader else test_loader)
        if valid_error < best_err:
            best_err = valid_error
            torch.save(model.state_dict(), os.path.join(save, 'model.dat'))
        print('epoch %d train_error %.4f valid_error %.4f' % (epoch + 1, train_error, valid_error))


def demo(data, save, depth=100, growth_rate=12, efficient=True, valid_size=5000, n_epochs=300, batch_size=64, seed=None):
    mean = [0.49139968, 0.48215841, 0.44653091]
    stdv = [0.24703223, 0.24348513, 0.26158784]
    train_transforms = transforms.Compose([
        transforms.RandomCrop(32, padding=4),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(mean=mean, std=stdv),
    ])
    test_transforms = transforms.Compose([
        transforms.ToTensor(),
        transforms.Normalize(mean=mean, std=stdv),
    ])

    train_set = datasets.CIFAR10(data, train=True, transform=train_transforms, download=True)
    test_set = datasets.CIFAR10(data, train=False, transform=test_transforms, download=False)

    block_config = [(depth - 4) // 6 for _ in range(3)]
    model = DenseNet(growth_rate=growth_rate, block_config=block_config, num_classes=10,
                     small_inputs=True, efficient=efficient)
    os.makedirs(save, exist_ok=True)
    train(model=model, train_set=train_set, test_set=test_set, save=save,
          valid_size=valid_size, n_epochs=n_epochs, batch_size=batch_size, seed=seed)


if __name__ == '__main__':
    fire.Fire(demo)
