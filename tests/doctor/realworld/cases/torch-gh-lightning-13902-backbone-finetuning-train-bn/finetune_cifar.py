import torch
import torch.nn as nn
import torch.nn.functional as F
import torchvision
import pytorch_lightning as pl
from pytorch_lightning.callbacks import BackboneFinetuning
from torch.utils.data import DataLoader
from torchvision import transforms as T

NUM_CLASSES = 10


class TransferNet(pl.LightningModule):
    def __init__(self, lr=1e-3):
        super().__init__()
        self.save_hyperparameters()
        resnet = torchvision.models.resnet18(pretrained=True)
        self.backbone = nn.Sequential(*list(resnet.children())[:-1])
        self.head = nn.Linear(512, NUM_CLASSES)

    def forward(self, x):
        return self.head(torch.flatten(self.backbone(x), 1))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", F.cross_entropy(logits, y), prog_bar=True)
        self.log("val_acc", (logits.argmax(1) == y).float().mean(), prog_bar=True)

    def configure_optimizers(self):
        return torch.optim.Adam(filter(lambda p: p.requires_grad, self.parameters()), lr=self.hparams.lr)


tfm = T.Compose([T.Resize(224), T.ToTensor(), T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
train_ds = torchvision.datasets.CIFAR10("data", train=True, download=True, transform=tfm)
val_ds = torchvision.datasets.CIFAR10("data", train=False, download=True, transform=tfm)

model = TransferNet()
bn_before = model.backbone[1].weight.detach().clone()

finetuning = BackboneFinetuning(unfreeze_backbone_at_epoch=3, train_bn=False)
trainer = pl.Trainer(max_epochs=5, gpus=1, callbacks=[finetuning])
trainer.fit(model, DataLoader(train_ds, batch_size=64, shuffle=True, num_workers=2),
            DataLoader(val_ds, batch_size=128, num_workers=2))

print("bn1 weight changed during frozen epochs:", not torch.equal(bn_before, model.backbone[1].weight.detach().cpu()))
