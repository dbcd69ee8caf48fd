from typing import Any, Type

import pytorch_lightning as pl
from torch import nn, Tensor
from torch.nn import functional as F
from torch.nn.functional import softmax
from torch.optim import Adam
from torch.optim.optimizer import Optimizer
from torchmetrics.functional import accuracy


class LogisticRegression(pl.LightningModule):
    """Logistic regression model."""

    def __init__(self, input_dim: int, num_classes: int, bias: bool = True,
                 learning_rate: float = 1e-4, optimizer: Type[Optimizer] = Adam,
                 l1_strength: float = 0.0, l2_strength: float = 0.0, **kwargs: Any) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.optimizer = optimizer
        self.linear = nn.Linear(input_dim, num_classes, bias=bias)

    def forward(self, x: Tensor) -> Tensor:
        x = self.linear(x)
        y_hat = softmax(x)
        return y_hat

    def training_step(self, batch, batch_idx):
        x, y = batch
        x = x.view(x.size(0), -1)
        y_hat = self(x)
        loss = F.cross_entropy(y_hat, y, reduction='sum')
        if self.hparams.l1_strength > 0:
            loss += self.hparams.l1_strength * sum(p.abs().sum() for p in self.parameters())
        if self.hparams.l2_strength > 0:
            loss += self.hparams.l2_strength * sum(p.pow(2).sum() for p in self.parameters())
        loss /= x.size(0)
        return {'loss': loss}

    def validation_step(self, batch, batch_idx):
        x, y = batch
        x = x.view(x.size(0), -1)
        y_hat = self(x)
        return {'val_loss': F.cross_entropy(y_hat, y), 'acc': accuracy(y_hat, y)}

    def configure_optimizers(self) -> Optimizer:
        return self.optimizer(self.parameters(), lr=self.hparams.learning_rate)


if __name__ == '__main__':
    from sklearn.datasets import load_iris
    from pl_bolts.datamodules.sklearn_datamodule import SklearnDataModule

    pl.seed_everything(1234)
    model = LogisticRegression(input_dim=4, num_classes=3, l1_strength=0.01, learning_rate=0.01)
    X, y = load_iris(return_X_y=True)
    loaders = SklearnDataModule(X, y, batch_size=16, num_workers=0)
    trainer = pl.Trainer()
    trainer.fit(model, train_dataloader=loaders.train_dataloader(), val_dataloaders=loaders.val_dataloader())
