from typing import Dict, Tuple
import torch
import torch.nn as nn
import lightning.pytorch as pl
from torchmetrics import MetricCollection

from src.model.utils import usdr


class Separator(pl.LightningModule):
    def __init__(self, model: nn.Module, loss: nn.Module, optimizer, scheduler, sources, sr=44100):
        super().__init__()
        self.model = model
        self.loss = loss
        self.optimizer_fn = optimizer
        self.scheduler_fn = scheduler
        self.sources = sources
        self.sr = sr

    def training_step(self, batch: Tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> torch.Tensor:
        mixture, targets = batch
        preds = self.model(mixture)
        loss = self.loss(preds, targets)
        self.log("train/loss", loss, prog_bar=True)
        return loss

    def validation_step(self, batch: Tuple[torch.Tensor, torch.Tensor], batch_idx: int) -> Dict[str, torch.Tensor]:
        mixture, targets = batch
        preds = self.model(mixture)
        loss = self.loss(preds, targets)
        self.log("val/loss", loss, prog_bar=True, sync_dist=True)

        metrics = {}
        for i, src in enumerate(self.sources):
            metrics[f"usdr_{src}"] = usdr(preds[:, i], targets[:, i])
        metrics["usdr"] = torch.stack(list(metrics.values())).mean()
        self.log_dict(metrics, on_epoch=True, sync_dist=True)
        return metrics

    def configure_optimizers(self):
        opt = self.optimizer_fn(self.parameters())
        sch = self.scheduler_fn(opt)
        return [opt], [{"scheduler": sch, "interval": "step"}]
