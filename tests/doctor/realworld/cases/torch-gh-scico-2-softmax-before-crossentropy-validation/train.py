import argparse
import yaml
import pytorch_lightning as pl
from pytorch_lightning.callbacks import ModelCheckpoint
from torch.utils import data

from models.muticlass import MulticlassModel
from utils.model_utils import get_global_attention, MultiClassDataset, collate_fn


parser = argparse.ArgumentParser()
parser.add_argument('--config', type=str, default='configs/multiclass.yaml')
args = parser.parse_args()

with open(args.config, 'r') as f:
    config = yaml.safe_load(f)

pl.seed_everything(config['seed'])
model = MulticlassModel(config, num_classes=4)

train = MultiClassDataset(config["data"]["training_set"], full_doc=config['full_doc'])
dev = MultiClassDataset(config["data"]["dev_set"], full_doc=config['full_doc'])
train_loader = data.DataLoader(train, batch_size=config["model"]["batch_size"],
                               shuffle=True, collate_fn=collate_fn)
dev_loader = data.DataLoader(dev, batch_size=config["model"]["batch_size"],
                             shuffle=False, collate_fn=collate_fn)

checkpoint = ModelCheckpoint(monitor='val_loss', save_top_k=2, mode='min')
trainer = pl.Trainer(gpus=config['gpu_num'], max_epochs=config['model']['epochs'],
                     callbacks=[checkpoint], accumulate_grad_batches=config['model']['gradient_accumulation'])
trainer.fit(model, train_loader, dev_loader)
