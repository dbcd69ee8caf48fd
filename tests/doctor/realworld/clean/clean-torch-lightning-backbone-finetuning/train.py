"""Transfer learning with Lightning: a frozen pretrained ResNet-50 that the BackboneFinetuning
callback unfreezes at epoch 5 with a lower rate; the best checkpoint is chosen on the logged
val_acc."""
import lightning as L
import torch
import torch.nn.functional as F
import torchmetrics
from lightning.pytorch.callbacks import BackboneFinetuning, ModelCheckpoint
from torch import nn
from torch.utils.data import DataLoader
from torchvision import models, transforms
from torchvision.datasets import ImageFolder

MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


class DataModule(L.LightningDataModule):
    def __init__(self, root: str, batch_size: int = 32):
        super().__init__()
        self.root, self.batch_size = root, batch_size
        self.train_tf = transforms.Compose([transforms.RandomResizedCrop(224), transforms.RandomHorizontalFlip(),
                                            transforms.ToTensor(), transforms.Normalize(MEAN, STD)])
        self.val_tf = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224),
                                          transforms.ToTensor(), transforms.Normalize(MEAN, STD)])

    def setup(self, stage=None):
        self.train_set = ImageFolder(f"{self.root}/train", self.train_tf)
        self.val_set = ImageFolder(f"{self.root}/val", self.val_tf)

    def train_dataloader(self):
        return DataLoader(self.train_set, batch_size=self.batch_size, shuffle=True, num_workers=4)

    def val_dataloader(self):
        return DataLoader(self.val_set, batch_size=self.batch_size, shuffle=False, num_workers=4)


class TransferModel(L.LightningModule):
    def __init__(self, num_classes: int = 2, lr: float = 1e-3):
        super().__init__()
        self.save_hyperparameters()
        resnet = models.resnet50(weights="DEFAULT")
        self.backbone = nn.Sequential(*list(resnet.children())[:-1])
        self.fc = nn.Linear(resnet.fc.in_features, num_classes)
        self.train_acc = torchmetrics.Accuracy(task="multiclass", num_classes=num_classes)
        self.val_acc = torchmetrics.Accuracy(task="multiclass", num_classes=num_classes)

    def forward(self, x):
        return self.fc(self.backbone(x).flatten(1))

    def training_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        loss = F.cross_entropy(logits, y)
        self.train_acc(logits, y)
        self.log("train_loss", loss, prog_bar=True)
        self.log("train_acc", self.train_acc, on_step=False, on_epoch=True, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.val_acc(logits, y)
        self.log("val_loss", F.cross_entropy(logits, y), prog_bar=True)
        self.log("val_acc", self.val_acc, prog_bar=True)

    def configure_optimizers(self):
        params = filter(lambda p: p.requires_grad, self.parameters())
        optimizer = torch.optim.Adam(params, lr=self.hparams.lr)
        scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[5, 10], gamma=0.1)
        return [optimizer], [scheduler]


if __name__ == "__main__":
    dm = DataModule("data/cats_and_dogs_filtered")
    model = TransferModel(num_classes=2)
    trainer = L.Trainer(
        max_epochs=15,
        callbacks=[
            BackboneFinetuning(unfreeze_backbone_at_epoch=5, lambda_func=lambda epoch: 1.5),
            ModelCheckpoint(monitor="val_acc", mode="max", save_top_k=1),
        ],
    )
    trainer.fit(model, datamodule=dm)
