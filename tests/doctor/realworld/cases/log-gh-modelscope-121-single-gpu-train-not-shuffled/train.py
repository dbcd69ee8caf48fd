# modelscope 1.3.0, one GPU: fine-tuning a text-classification model on my own data.
# Easy examples are at the front of train.csv.
from modelscope.msdatasets import MsDataset
from modelscope.trainers import build_trainer
from modelscope.metainfo import Trainers

train_set = MsDataset.load('csv', data_files={'train': 'data/train.csv'}, split='train')
dev_set = MsDataset.load('csv', data_files={'validation': 'data/dev.csv'}, split='validation')


def tweak_cfg(cfg):
    cfg.task = 'text-classification'
    cfg.train.max_epochs = 3
    cfg.train.optimizer.lr = 2e-5
    # tried to turn shuffling on -- the loss curve below does not change
    cfg.train.dataloader = {
        "batch_size_per_gpu": 10,
        "workers_per_gpu": 1,
        "shuffle": True
    }
    cfg.train.hooks = [{'type': 'TextLoggerHook', 'interval': 20},
                       {'type': 'CheckpointHook', 'interval': 1},
                       {'type': 'EvaluationHook', 'interval': 1}]
    return cfg


trainer = build_trainer(
    name=Trainers.nlp_base_trainer,
    default_args=dict(model='damo/nlp_structbert_backbone_base_std',
                      train_dataset=train_set, eval_dataset=dev_set,
                      cfg_modify_fn=tweak_cfg, work_dir='./work'))
trainer.train()
