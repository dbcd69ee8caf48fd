import torch
import torch.nn as nn
import pytorch_lightning as pl
from transformers import AutoModel, AutoTokenizer
import torchmetrics


class MulticlassModel(pl.LightningModule):
    def __init__(self, config, num_classes=4):
        super().__init__()
        self.long = True if 'longformer' in config["model"]["bert_model"] else False
        self.config = config
        self.tokenizer = AutoTokenizer.from_pretrained(config["model"]["bert_model"])
        self.model = AutoModel.from_pretrained(config["model"]["bert_model"], add_pooling_layer=False)
        self.linear = nn.Linear(self.model.config.hidden_size, num_classes)
        self.criterion = torch.nn.CrossEntropyLoss()
        self.acc = torchmetrics.Accuracy(top_k=1)
        self.f1 = torchmetrics.F1(num_classes=num_classes, average='none')

    def forward(self, input_ids, attention_mask, global_attention_mask):
        output = self.model(input_ids, attention_mask=attention_mask,
                            global_attention_mask=global_attention_mask)
        cls_vector = output.last_hidden_state[:, 0, :]
        scores = self.linear(cls_vector)
        return scores

    def training_step(self, batch, batch_idx):
        x, y = batch
        input_ids, attention_mask, global_attention_mask = x
        y_hat = self(input_ids, attention_mask, global_attention_mask)
        loss = self.criterion(y_hat, y)
        self.log('loss', loss, on_step=True, on_epoch=True, prog_bar=True)
        return loss

    def validation_step(self, batch, batch_idx):
        x, y = batch
        input_ids, attention_mask, global_attention_mask = x
        y_hat = self(input_ids, attention_mask, global_attention_mask)
        y_hat = torch.softmax(y_hat, dim=1)
        loss = self.criterion(y_hat, y)
        self.acc(y_hat, y)
        self.f1(y_hat, y)
        self.log('val_loss', loss, on_epoch=True, on_step=False, sync_dist=True)
        self.log('val_acc', self.acc, on_epoch=True, on_step=False)
        return loss

    def test_step(self, batch, batch_idx):
        x, y = batch
        input_ids, attention_mask, global_attention_mask = x
        y_hat = self(input_ids, attention_mask, global_attention_mask)
        y_hat = torch.softmax(y_hat, dim=1)
        loss = self.criterion(y_hat, y)
        self.log('test_loss', loss)
        return y_hat

    def configure_optimizers(self):
        return torch.optim.AdamW(self.parameters(), lr=self.config["model"]["lr"])
