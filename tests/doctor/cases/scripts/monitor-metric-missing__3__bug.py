import pytorch_lightning as pl
import torch
import torch.nn.functional as F
import torchvision
from pytorch_lightning.callbacks import EarlyStopping, ModelCheckpoint


class Classifier(pl.LightningModule):
    def __init__(self, num_classes=5):
        super().__init__()
        self.net = torchvision.models.resnet18(weights="IMAGENET1K_V1")
        self.net.fc = torch.nn.Linear(512, num_classes)

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        loss = F.cross_entropy(self(x), y)
        self.log("train/loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        logits = self(x)
        self.log("val/loss", F.cross_entropy(logits, y))
        self.log("val/acc", (logits.argmax(1) == y).float().mean())

    def configure_optimizers(self):
        return torch.optim.Adam(self.parameters(), lr=1e-4)


checkpoint = ModelCheckpoint(monitor="val_loss", mode="min")  # expect: monitor-metric-missing
trainer = pl.Trainer(max_epochs=10, callbacks=[checkpoint])
trainer.fit(Classifier(), datamodule=dm)
