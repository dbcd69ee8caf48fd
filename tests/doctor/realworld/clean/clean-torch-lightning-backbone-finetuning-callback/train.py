"""Lightning transfer learning with the BackboneFinetuning callback.

The backbone (a pretrained ResNet-50 without its fc layer) is frozen for the first epochs
and unfrozen by the callback at a lower learning rate; the module exposes it as
`self.backbone`, which is the attribute the callback looks for.
"""
import lightning.pytorch as pl
import torch
import torch.nn.functional as F
import torchmetrics
from lightning.pytorch.callbacks import BackboneFinetuning, EarlyStopping, ModelCheckpoint
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets
from torchvision.models import ResNet50_Weights, resnet50
from torchvision.transforms import v2


class Classifier(pl.LightningModule):
    def __init__(self, num_classes, lr=1e-3):
        super().__init__()
        self.save_hyperparameters()
        net = resnet50(weights=ResNet50_Weights.IMAGENET1K_V2)
        self.backbone = nn.Sequential(*list(net.children())[:-1])
        self.head = nn.Linear(net.fc.in_features, num_classes)
        self.val_acc = torchmetrics.Accuracy(task="multiclass", num_classes=num_classes)

    def forward(self, x):
        return self.head(torch.flatten(self.backbone(x), 1))

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train_loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val_loss", F.cross_entropy(logits, y), prog_bar=True)
        self.val_acc(logits, y)
        self.log("val_acc", self.val_acc, prog_bar=True)

    def configure_optimizers(self):
        params = filter(lambda p: p.requires_grad, self.parameters())
        optimizer = torch.optim.Adam(params, lr=self.hparams.lr)
        scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[8, 12], gamma=0.1)
        return [optimizer], [scheduler]


def loaders(root, batch_size=32):
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    train_tf = v2.Compose([
        v2.RandomResizedCrop(224, antialias=True), v2.RandomHorizontalFlip(),
        v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std),
    ])
    eval_tf = v2.Compose([
        v2.Resize(232, antialias=True), v2.CenterCrop(224),
        v2.ToImage(), v2.ToDtype(torch.float32, scale=True), v2.Normalize(mean, std),
    ])
    train_set = datasets.ImageFolder(f"{root}/train", transform=train_tf)
    val_set = datasets.ImageFolder(f"{root}/val", transform=eval_tf)
    assert train_set.class_to_idx == val_set.class_to_idx
    return (
        DataLoader(train_set, batch_size=batch_size, shuffle=True, num_workers=4),
        DataLoader(val_set, batch_size=batch_size, shuffle=False, num_workers=4),
        len(train_set.classes),
    )


if __name__ == "__main__":
    train_loader, val_loader, n_classes = loaders("data/cats_dogs")
    model = Classifier(n_classes)
    callbacks = [
        BackboneFinetuning(unfreeze_backbone_at_epoch=5, backbone_initial_ratio_lr=0.1, train_bn=False),
        ModelCheckpoint(monitor="val_acc", mode="max"),
        EarlyStopping(monitor="val_loss", patience=4),
    ]
    trainer = pl.Trainer(max_epochs=15, callbacks=callbacks, accelerator="auto")
    trainer.fit(model, train_loader, val_loader)
