"""Fine-tuning an ImageNet ResNet50 on cats vs dogs with pytorch-lightning.

Phase 1: backbone frozen (BatchNorm optionally trainable), only the head learns.
Phase 2 (first milestone): the last backbone blocks are unfrozen into a new param group.
Phase 3 (second milestone): the remaining backbone blocks join a third group.
The learning rate is divided by 10 at each milestone.
"""
import argparse
import os
from pathlib import Path
from typing import Union

import torch
import torch.nn.functional as F
from torch import nn, optim
from torch.optim.lr_scheduler import MultiStepLR
from torch.optim.optimizer import Optimizer
from torch.utils.data import DataLoader
from torchmetrics import Accuracy
from torchvision import models, transforms
from torchvision.datasets import ImageFolder
from torchvision.datasets.utils import download_and_extract_archive

import pytorch_lightning as pl
from pytorch_lightning import LightningDataModule
from pytorch_lightning.callbacks.finetuning import BaseFinetuning
from pytorch_lightning.utilities import rank_zero_info

ARCHIVE = "https://storage.googleapis.com/mledu-datasets/cats_and_dogs_filtered.zip"
IMAGENET_STATS = dict(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])


class UnfreezeAtMilestones(BaseFinetuning):

    def __init__(self, milestones=(5, 10), train_bn=False):
        self.milestones = milestones
        self.train_bn = train_bn

    def freeze_before_training(self, pl_module):
        self.freeze(modules=pl_module.feature_extractor, train_bn=self.train_bn)

    def finetune_function(self, pl_module, epoch: int, optimizer: Optimizer, opt_idx: int):
        first, second = self.milestones
        if epoch == first:
            blocks = pl_module.feature_extractor[-5:]
        elif epoch == second:
            blocks = pl_module.feature_extractor[:-5]
        else:
            return
        self.unfreeze_and_add_param_group(modules=blocks, optimizer=optimizer, train_bn=self.train_bn)


class CatsDogsData(LightningDataModule):

    def __init__(self, root: Union[str, Path], workers: int = 0, batch_size: int = 8):
        super().__init__()
        self.root = Path(root)
        self.workers = workers
        self.batch_size = batch_size

    def prepare_data(self):
        download_and_extract_archive(url=ARCHIVE, download_root=self.root, remove_finished=True)

    def _make(self, split: str, augment: bool):
        tf = [transforms.Resize((224, 224))]
        if augment:
            tf.append(transforms.RandomHorizontalFlip())
        tf += [transforms.ToTensor(), transforms.Normalize(**IMAGENET_STATS)]
        ds = ImageFolder(self.root / "cats_and_dogs_filtered" / split, transform=transforms.Compose(tf))
        return DataLoader(ds, batch_size=self.batch_size, num_workers=self.workers, shuffle=augment)

    def train_dataloader(self):
        return self._make("train", augment=True)

    def val_dataloader(self):
        return self._make("validation", augment=False)


class TransferModel(pl.LightningModule):

    def __init__(self, backbone: str = "resnet50", train_bn: bool = True, milestones: tuple = (5, 10),
                 lr: float = 1e-3, lr_gamma: float = 0.1, **kwargs) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.milestones = milestones
        self.lr = lr
        self.lr_gamma = lr_gamma

        resnet = getattr(models, backbone)(pretrained=True)
        self.feature_extractor = nn.Sequential(*list(resnet.children())[:-1])
        self.fc = nn.Sequential(nn.Linear(2048, 256), nn.ReLU(), nn.Linear(256, 32), nn.Linear(32, 1))
        self.loss_func = F.binary_cross_entropy_with_logits

        self.train_acc = Accuracy()
        self.valid_acc = Accuracy()

    def forward(self, x):
        """Returns logits."""
        x = torch.flatten(self.feature_extractor(x), 1)
        x = self.fc(x)
        return torch.sigmoid(x)

    def loss(self, logits, labels):
        return self.loss_func(input=logits, target=labels)

    def _step(self, batch):
        images, targets = batch
        logits = self(images)
        return logits, targets.view(-1, 1).type_as(images)

    def training_step(self, batch, batch_idx):
        logits, y = self._step(batch)
        self.log("train_acc", self.train_acc(logits, y.int()), prog_bar=True)
        return self.loss(logits, y)

    def validation_step(self, batch, batch_idx):
        logits, y = self._step(batch)
        self.log("val_loss", self.loss(logits, y), prog_bar=True)
        self.log("val_acc", self.valid_acc(logits, y.int()), prog_bar=True)

    def configure_optimizers(self):
        trainable = [p for p in self.parameters() if p.requires_grad]
        rank_zero_info(f"{len(trainable)} parameter tensors trainable at start")
        opt = optim.Adam(trainable, lr=self.lr)
        return [opt], [MultiStepLR(opt, milestones=self.milestones, gamma=self.lr_gamma)]


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser()
    p.add_argument("--data-root", default=os.getcwd(), help="where the archive is unpacked")
    p.add_argument("--backbone", default="resnet50", help="torchvision model name")
    p.add_argument("--epochs", type=int, default=12)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--gpus", type=int, default=0)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--lr-gamma", type=float, default=0.1)
    p.add_argument("--train-bn", type=bool, default=False)
    p.add_argument("--milestones", type=int, nargs=2, default=[3, 6])
    return p.parse_args()


if __name__ == "__main__":
    args = parse_args()
    data = CatsDogsData(os.path.join(args.data_root, "data"), workers=args.workers, batch_size=args.batch_size)
    model = TransferModel(backbone=args.backbone, train_bn=args.train_bn, milestones=args.milestones,
                          lr=args.lr, lr_gamma=args.lr_gamma)
    trainer = pl.Trainer(gpus=args.gpus, max_epochs=args.epochs, num_sanity_val_steps=0,
                         callbacks=[UnfreezeAtMilestones(milestones=args.milestones, train_bn=args.train_bn)])
    trainer.fit(model, datamodule=data)
