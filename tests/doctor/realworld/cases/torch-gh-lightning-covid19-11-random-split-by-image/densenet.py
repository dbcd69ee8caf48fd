import os

import torch
import torch.nn as nn
from torch import optim
from torch.utils.data import DataLoader
import torchvision.transforms as transforms
import torchxrayvision as xrv
from pytorch_lightning.core import LightningModule


class CovidDenseNet(LightningModule):

    def __init__(self, hparams):
        super(CovidDenseNet, self).__init__()
        self.hparams = hparams
        self.net = xrv.models.DenseNet(num_classes=2)
        self.criterion = nn.CrossEntropyLoss()

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch['PA'], batch['lab'].long()[:, 2]
        loss = self.criterion(self.forward(x), y)
        return {'loss': loss, 'log': {'train_loss': loss}}

    def validation_step(self, batch, batch_idx):
        x, y = batch['PA'], batch['lab'].long()[:, 2]
        y_hat = self.forward(x)
        acc = (torch.argmax(y_hat, dim=1) == y).float().mean()
        return {'val_loss': self.criterion(y_hat, y), 'val_acc': acc}

    def configure_optimizers(self):
        optimizer = optim.Adam(self.parameters(), lr=self.hparams.learning_rate)
        return [optimizer], [optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=10)]

    def prepare_data(self):
        root = self.hparams.data_root
        tfm = transforms.Compose([xrv.datasets.XRayCenterCrop(), xrv.datasets.XRayResizer(224)])
        covid19 = xrv.datasets.COVID19_Dataset(
            imgpath=f'{root}/images',
            csvpath=f'{root}/metadata.csv',
            transform=tfm)

        n_train = int(0.8 * len(covid19))
        n_valid = int(0.5 * (len(covid19) - n_train))
        n_test = len(covid19) - n_train - n_valid
        self.train_set, self.val_set, self.test_set = \
            torch.utils.data.random_split(covid19, [n_train, n_valid, n_test])

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.hparams.batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.hparams.batch_size)

    def test_dataloader(self):
        return DataLoader(self.test_set, batch_size=self.hparams.batch_size)
