import torch
import torch.nn as nn
import torchvision
import pytorch_lightning as pl


class DepthFeatures(nn.Module):
    """ImageNet-pretrained MnasNet trunk plus a small 1x1 'shrinker' to the feature width."""

    def __init__(self, feat_dim=32):
        super().__init__()
        mnas = torchvision.models.mnasnet1_0(pretrained=True)
        self.backbone = mnas.layers[:9]                 # pretrained, meant to stay frozen
        self.shrink = nn.Conv2d(40, feat_dim, kernel_size=1)

    def forward(self, img):
        return self.shrink(self.backbone(img))


class MultiViewDepth(pl.LightningModule):

    def __init__(self, lr=1e-3, lr_step=100, lr_gamma=0.5, finetune=False):
        super().__init__()
        self.save_hyperparameters()
        self.features = DepthFeatures()
        self.head = DepthHead()                         # cost volume + refinement, trained from scratch

    def training_step(self, batch, batch_idx):
        if not self.hparams.finetune:
            # stage 1: keep the pretrained backbone frozen
            self.features.backbone.eval()
        loss = self.head.loss(self.features(batch['images']), batch)
        self.log('train/loss', loss)
        return loss

    def configure_optimizers(self):
        opt = torch.optim.Adam([
            {'params': self.features.parameters()},
            {'params': self.head.parameters()},
        ], lr=self.hparams.lr)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=self.hparams.lr_step,
                                                gamma=self.hparams.lr_gamma)
        return [opt], [sched]
