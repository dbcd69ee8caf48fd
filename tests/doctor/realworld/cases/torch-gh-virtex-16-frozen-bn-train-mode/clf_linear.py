import argparse
import os

import torch
from loguru import logger
from torch import nn
from torch.utils.data import DataLoader, DistributedSampler
from torch.utils.tensorboard import SummaryWriter

import virtex.utils.distributed as dist
from virtex.config import Config
from virtex.factories import (
    DownstreamDatasetFactory,
    LRSchedulerFactory,
    OptimizerFactory,
    PretrainingModelFactory,
)
from virtex.utils.checkpointing import CheckpointManager
from virtex.utils.common import common_parser, common_setup, cycle
from virtex.utils.metrics import TopkAccuracy
from virtex.utils.timer import Timer

# fmt: off
parser = common_parser(
    description="Linear classification on top of a frozen pretrained visual "
                "backbone, or end-to-end fine-tuning of it."
)
group = parser.add_argument_group("Downstream config")
group.add_argument("--down-config", metavar="FILE", help="downstream config file")
group.add_argument("--down-config-override", nargs="*", default=[],
                   help="key value pairs overriding the downstream config")
parser.add_argument("--weight-init", choices=["random", "imagenet", "torchvision", "virtex"],
                    default="virtex", help="where the backbone weights come from")
parser.add_argument("--log-every", type=int, default=100, help="log every N iterations")
parser.add_argument("--checkpoint-path", help="checkpoint to evaluate (model_<iter>.pth)")
parser.add_argument("--checkpoint-every", type=int, default=2500,
                    help="validate and save every N iterations")
# fmt: on


def make_loader(dataset, batch_size, workers, shuffle):
    return DataLoader(
        dataset,
        batch_size=batch_size,
        num_workers=workers,
        sampler=DistributedSampler(dataset, num_replicas=dist.get_world_size(),
                                   rank=dist.get_rank(), shuffle=shuffle),
        pin_memory=True,
        drop_last=False,
        collate_fn=dataset.collate_fn,
    )


def main(_ARGS: argparse.Namespace):
    device = torch.device("cpu") if _ARGS.num_gpus_per_machine == 0 else torch.cuda.current_device()

    _DCFG = Config(_ARGS.down_config, _ARGS.down_config_override)
    common_setup(_DCFG, _ARGS, job_type="downstream")
    _PCFG = Config(_ARGS.config, _ARGS.config_override)
    _PCFG.dump(os.path.join(_ARGS.serialization_dir, "pretrain_config.yaml"))

    DSET_NAME = _DCFG.DATA.ROOT.split("/")[-1]
    N_CLS = {"imagenet": 1000, "inaturalist": 8142}[DSET_NAME]

    per_gpu_batch = _DCFG.OPTIM.BATCH_SIZE // dist.get_world_size()
    train_dataset = DownstreamDatasetFactory.from_config(_DCFG, split="train")
    val_dataset = DownstreamDatasetFactory.from_config(_DCFG, split="val")
    train_dataloader = make_loader(train_dataset, per_gpu_batch, _ARGS.cpu_workers, shuffle=True)
    val_dataloader = make_loader(val_dataset, per_gpu_batch, _ARGS.cpu_workers, shuffle=False)

    pretrain_net = PretrainingModelFactory.from_config(_PCFG)
    if _ARGS.weight_init == "virtex":
        CheckpointManager(model=pretrain_net).load(_ARGS.checkpoint_path)
    elif _ARGS.weight_init == "torchvision":
        # strict=False: the torchvision state dict may carry its own fc weights
        state = torch.load(_ARGS.checkpoint_path, map_location="cpu")["state_dict"]
        pretrain_net.visual.cnn.load_state_dict(state, strict=False)

    # keep only the CNN and give it back a classification layer
    model = pretrain_net.visual.cnn
    model.fc = nn.Linear(_DCFG.MODEL.VISUAL.FEATURE_SIZE, N_CLS).to(device)
    model = model.to(device)
    nn.init.normal_(model.fc.weight.data, mean=0.0, std=0.01)
    nn.init.constant_(model.fc.bias.data, 0.0)

    if _DCFG.MODEL.VISUAL.FROZEN:
        for name, param in model.named_parameters():
            if "fc" not in name:
                param.requires_grad = False

    ce_loss = nn.CrossEntropyLoss()
    top1_meter = TopkAccuracy(top_k=1)
    optimizer = OptimizerFactory.from_config(_DCFG, model.named_parameters())
    scheduler = LRSchedulerFactory.from_config(_DCFG, optimizer)
    del pretrain_net

    batch_iter = cycle(train_dataloader, device)

    if dist.get_world_size() > 1:
        dist.synchronize()
        model = nn.parallel.DistributedDataParallel(model, device_ids=[device], find_unused_parameters=True)

    if dist.is_master_process():
        ckpt_mgr = CheckpointManager(_ARGS.serialization_dir, model=model,
                                               optimizer=optimizer, scheduler=scheduler)
        writer = SummaryWriter(log_dir=_ARGS.serialization_dir)

    timer = Timer(start_from=1, total_iterations=_DCFG.OPTIM.NUM_ITERATIONS)

    for step in range(1, _DCFG.OPTIM.NUM_ITERATIONS + 1):
        timer.tic()
        optimizer.zero_grad()
        batch = next(batch_iter)
        loss = ce_loss(model(batch["image"]), batch["label"])
        loss.backward()
        optimizer.step()
        scheduler.step(step)
        timer.toc()

        if step % _ARGS.log_every == 0 and dist.is_master_process():
            logger.info(f"{timer.stats} | loss {loss:.3f} | mem {dist.gpu_mem_usage()} MB")
            writer.add_scalar(f"{DSET_NAME}/train_loss", loss, step)
            writer.add_scalar(f"{DSET_NAME}/learning_rate", optimizer.param_groups[0]["lr"], step)

        # validation
        if step % _ARGS.checkpoint_every == 0:
            torch.set_grad_enabled(False)
            model.eval()

            val_loss = torch.tensor(0.0).to(device)
            for n_val, batch in enumerate(val_dataloader, start=1):
                batch = {k: v.to(device) for k, v in batch.items()}
                logits = model(batch["image"])
                val_loss += ce_loss(logits, batch["label"])
                top1_meter(logits, batch["label"])
            val_loss = val_loss / n_val
            dist.average_across_processes(val_loss)
            acc = top1_meter.get_metric(reset=True)
            dist.average_across_processes(acc)

            torch.set_grad_enabled(True)
            model.train()

            if dist.is_master_process():
                ckpt_mgr.step(step)
                logger.info(f"iter {step} | top-1 {acc}")
                writer.add_scalar(f"{DSET_NAME}/val_loss", val_loss, step)
                writer.add_scalars(f"metrics/{DSET_NAME}", {"top1_meter": acc}, step)

        dist.synchronize()


if __name__ == "__main__":
    _ARGS = parser.parse_args()
    if _ARGS.weight_init == "imagenet":
        _ARGS.config_override.extend(["MODEL.VISUAL.PRETRAINED", True])

    if _ARGS.num_gpus_per_machine == 0:
        main(_ARGS)
    else:
        dist.launch(main, num_machines=_ARGS.num_machines, num_gpus_per_machine=_ARGS.num_gpus_per_machine,
                    machine_rank=_ARGS.machine_rank, dist_url=_ARGS.dist_url, args=(_ARGS,))
