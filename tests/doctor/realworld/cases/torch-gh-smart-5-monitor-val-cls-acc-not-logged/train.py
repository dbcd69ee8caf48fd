from argparse import ArgumentParser
import pytorch_lightning as pl
from pytorch_lightning.callbacks import LearningRateMonitor, ModelCheckpoint
from pytorch_lightning.strategies import DDPStrategy
from smart.utils.config import load_config_act
from smart.datamodules import MultiDataModule
from smart.model import SMART

if __name__ == '__main__':
    parser = ArgumentParser()
    parser.add_argument('--config', type=str, default='configs/train/train_scalable.yaml')
    parser.add_argument('--save_ckpt_path', type=str, default='ckpt/')
    args = parser.parse_args()
    config = load_config_act(args.config)
    datamodule = MultiDataModule(**vars(config.Dataset))
    model = SMART(config.Model)
    model_checkpoint = ModelCheckpoint(dirpath=args.save_ckpt_path, filename="{epoch:02d}",
                                       monitor='val_cls_acc', every_n_epochs=1, save_top_k=5, mode='max')
    lr_monitor = LearningRateMonitor(logging_interval='epoch')
    trainer = pl.Trainer(accelerator=config.Trainer.accelerator, devices=config.Trainer.devices,
                         strategy=DDPStrategy(find_unused_parameters=True),
                         max_epochs=config.Trainer.max_epochs, callbacks=[model_checkpoint, lr_monitor])
    trainer.fit(model, datamodule)
