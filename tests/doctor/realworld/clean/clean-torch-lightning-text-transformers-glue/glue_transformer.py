"""Fine-tune a Hugging Face transformer on GLUE MRPC inside a LightningModule."""
from datetime import datetime

import datasets
import evaluate
import lightning as L
import torch
from torch.utils.data import DataLoader
from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer, get_linear_schedule_with_warmup


class GLUEDataModule(L.LightningDataModule):
    text_fields = ["sentence1", "sentence2"]

    def __init__(self, model_name_or_path, max_seq_length=128, train_batch_size=32, eval_batch_size=32):
        super().__init__()
        self.model_name_or_path = model_name_or_path
        self.max_seq_length = max_seq_length
        self.train_batch_size = train_batch_size
        self.eval_batch_size = eval_batch_size
        self.num_labels = 2
        self.tokenizer = AutoTokenizer.from_pretrained(model_name_or_path, use_fast=True)

    def setup(self, stage=None):
        self.dataset = datasets.load_dataset("glue", "mrpc")
        for split in self.dataset.keys():
            self.dataset[split] = self.dataset[split].map(self.convert_to_features, batched=True, remove_columns=["label"])
            self.dataset[split].set_format(type="torch", columns=["input_ids", "attention_mask", "labels"])

    def convert_to_features(self, batch):
        features = self.tokenizer(list(zip(batch["sentence1"], batch["sentence2"])), max_length=self.max_seq_length,
                                  padding="max_length", truncation=True)
        features["labels"] = batch["label"]
        return features

    def train_dataloader(self):
        return DataLoader(self.dataset["train"], batch_size=self.train_batch_size, shuffle=True)

    def val_dataloader(self):
        return DataLoader(self.dataset["validation"], batch_size=self.eval_batch_size)


class GLUETransformer(L.LightningModule):
    def __init__(self, model_name_or_path, num_labels, learning_rate=2e-5, adam_epsilon=1e-8, warmup_steps=0,
                 weight_decay=0.0):
        super().__init__()
        self.save_hyperparameters()
        self.config = AutoConfig.from_pretrained(model_name_or_path, num_labels=num_labels)
        self.model = AutoModelForSequenceClassification.from_pretrained(model_name_or_path, config=self.config)
        self.metric = evaluate.load("glue", "mrpc", experiment_id=datetime.now().strftime("%d-%m-%Y_%H-%M-%S"))
        self.outputs = []

    def forward(self, **inputs):
        return self.model(**inputs)

    def training_step(self, batch, batch_idx):
        outputs = self(**batch)
        return outputs[0]

    def validation_step(self, batch, batch_idx):
        outputs = self(**batch)
        val_loss, logits = outputs[:2]
        preds = torch.argmax(logits, axis=1)
        self.outputs.append({"loss": val_loss, "preds": preds, "labels": batch["labels"]})

    def on_validation_epoch_end(self):
        preds = torch.cat([x["preds"] for x in self.outputs]).detach().cpu().numpy()
        labels = torch.cat([x["labels"] for x in self.outputs]).detach().cpu().numpy()
        loss = torch.stack([x["loss"] for x in self.outputs]).mean()
        self.log("val_loss", loss, prog_bar=True)
        self.log_dict(self.metric.compute(predictions=preds, references=labels), prog_bar=True)
        self.outputs.clear()

    def configure_optimizers(self):
        no_decay = ["bias", "LayerNorm.weight"]
        grouped = [
            {"params": [p for n, p in self.model.named_parameters() if not any(nd in n for nd in no_decay)],
             "weight_decay": self.hparams.weight_decay},
            {"params": [p for n, p in self.model.named_parameters() if any(nd in n for nd in no_decay)],
             "weight_decay": 0.0},
        ]
        optimizer = torch.optim.AdamW(grouped, lr=self.hparams.learning_rate, eps=self.hparams.adam_epsilon)
        scheduler = get_linear_schedule_with_warmup(optimizer, num_warmup_steps=self.hparams.warmup_steps,
                                                    num_training_steps=self.trainer.estimated_stepping_batches)
        return [optimizer], [{"scheduler": scheduler, "interval": "step", "frequency": 1}]


L.seed_everything(42)
dm = GLUEDataModule(model_name_or_path="distilbert-base-uncased")
dm.setup("fit")
model = GLUETransformer(model_name_or_path="distilbert-base-uncased", num_labels=dm.num_labels)
trainer = L.Trainer(max_epochs=1, accelerator="auto", devices=1)
trainer.fit(model, datamodule=dm)
