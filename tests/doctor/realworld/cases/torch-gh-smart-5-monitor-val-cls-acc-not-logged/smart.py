import pytorch_lightning as pl
import torch
import torch.nn as nn
from smart.metrics import minADE, minFDE, TokenCls
from smart.modules import SMARTDecoder


class SMART(pl.LightningModule):
    def __init__(self, model_config) -> None:
        super(SMART, self).__init__()
        self.save_hyperparameters()
        self.lr = model_config.lr
        self.warmup_steps = model_config.warmup_steps
        self.max_epochs = model_config.max_epochs
        self.inference_token = model_config.inference_token
        self.encoder = SMARTDecoder(**model_config.decoder)
        self.minADE = minADE(max_guesses=1)
        self.minFDE = minFDE(max_guesses=1)
        self.TokenCls = TokenCls(max_guesses=1)
        self.cls_loss = nn.CrossEntropyLoss(label_smoothing=0.1)

    def training_step(self, data, batch_idx):
        pred = self(data)
        next_token_prob = pred['next_token_prob']
        next_token_idx_gt = pred['next_token_idx_gt']
        next_token_eval_mask = pred['next_token_eval_mask']
        cls_loss = self.cls_loss(next_token_prob[next_token_eval_mask], next_token_idx_gt[next_token_eval_mask])
        loss = cls_loss
        self.log('train_loss', loss, on_step=True, on_epoch=True, batch_size=1)
        self.log('cls_loss', cls_loss, on_step=True, on_epoch=True, batch_size=1)
        return loss

    def validation_step(self, data, batch_idx):
        pred = self(data)
        if self.inference_token:
            next_token_idx = pred['next_token_idx']
            next_token_idx_gt = pred['next_token_idx_gt']
            next_token_eval_mask = pred['next_token_eval_mask']
            self.TokenCls.update(pred=next_token_idx[next_token_eval_mask],
                                 target=next_token_idx_gt[next_token_eval_mask],
                                 valid_mask=next_token_eval_mask[next_token_eval_mask])
            self.log('val_cls_acc', self.TokenCls, prog_bar=True, on_step=False, on_epoch=True, batch_size=1,
                     sync_dist=True)
        loss = self.cls_loss(pred['next_token_prob'][pred['next_token_eval_mask']],
                             pred['next_token_idx_gt'][pred['next_token_eval_mask']])
        self.log('val_loss', loss, prog_bar=True, on_step=False, on_epoch=True, batch_size=1)
