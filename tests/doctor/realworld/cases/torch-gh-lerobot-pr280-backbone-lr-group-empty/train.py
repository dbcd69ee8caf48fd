#!/usr/bin/env python
import logging
import time
from contextlib import nullcontext

import hydra
import torch
from omegaconf import DictConfig
from torch import nn
from torch.cuda.amp import GradScaler

from lerobot.common.datasets.factory import make_dataset
from lerobot.common.datasets.utils import cycle
from lerobot.common.logger import Logger
from lerobot.common.policies.factory import make_policy
from lerobot.common.policies.policy_protocol import PolicyWithUpdate
from lerobot.common.policies.utils import get_device_from_parameters
from lerobot.common.utils.utils import get_safe_torch_device, init_logging, set_global_seed


def make_optimizer_and_scheduler(cfg, policy):
    if cfg.policy.name == "act":
        param_groups = [
            {
                "params": [
                    p for n, p in policy.named_parameters()
                    if not n.startswith("backbone") and p.requires_grad
                ],
            },
            {
                "params": [
                    p for n, p in policy.named_parameters()
                    if n.startswith("backbone") and p.requires_grad
                ],
                "lr": cfg.training.lr_backbone,
            },
        ]
        optimizer = torch.optim.AdamW(param_groups, lr=cfg.training.lr, weight_decay=cfg.training.weight_decay)
        lr_scheduler = None
    elif cfg.policy.name == "diffusion":
        from diffusers.optimization import get_scheduler

        optimizer = torch.optim.Adam(policy.diffusion.parameters(), cfg.training.lr, cfg.training.adam_betas,
                                     cfg.training.adam_eps, cfg.training.adam_weight_decay)
        lr_scheduler = get_scheduler(cfg.training.lr_scheduler, optimizer=optimizer,
                                     num_warmup_steps=cfg.training.lr_warmup_steps,
                                     num_training_steps=cfg.training.offline_steps)
    elif cfg.policy.name == "tdmpc":
        optimizer = torch.optim.Adam(policy.parameters(), cfg.training.lr)
        lr_scheduler = None
    else:
        raise NotImplementedError(cfg.policy.name)
    return optimizer, lr_scheduler


def update_policy(policy, batch, optimizer, grad_clip_norm, grad_scaler: GradScaler, lr_scheduler=None,
                  use_amp: bool = False):
    """One optimization step; returns values to log."""
    t0 = time.perf_counter()
    device = get_device_from_parameters(policy)
    policy.train()
    with torch.autocast(device_type=device.type) if use_amp else nullcontext():
        out = policy.forward(batch)
        loss = out["loss"]
    grad_scaler.scale(loss).backward()

    # gradients must be unscaled before clipping
    grad_scaler.unscale_(optimizer)
    grad_norm = torch.nn.utils.clip_grad_norm_(policy.parameters(), grad_clip_norm, error_if_nonfinite=False)

    grad_scaler.step(optimizer)  # skipped when the gradients hold inf/NaN
    grad_scaler.update()
    optimizer.zero_grad()

    if lr_scheduler is not None:
        lr_scheduler.step()
    if isinstance(policy, PolicyWithUpdate):
        policy.update()

    return {
        "loss": loss.item(),
        "grad_norm": float(grad_norm),
        "lr": optimizer.param_groups[0]["lr"],
        "update_s": time.perf_counter() - t0,
        **{k: v for k, v in out.items() if k != "loss"},
    }


def train(cfg: DictConfig, out_dir: str | None = None, job_name: str | None = None):
    if out_dir is None or job_name is None:
        raise NotImplementedError()
    init_logging()
    logger = Logger(cfg, out_dir, wandb_job_name=job_name)
    set_global_seed(cfg.seed)
    device = get_safe_torch_device(cfg.device, log=True)
    torch.backends.cudnn.benchmark = True

    dataset = make_dataset(cfg)
    policy = make_policy(hydra_cfg=cfg, dataset_stats=dataset.stats)
    assert isinstance(policy, nn.Module)
    optimizer, lr_scheduler = make_optimizer_and_scheduler(cfg, policy)
    grad_scaler = GradScaler(enabled=cfg.use_amp)

    n_trainable = sum(p.numel() for p in policy.parameters() if p.requires_grad)
    logging.info(f"{n_trainable=} of {sum(p.numel() for p in policy.parameters())}")

    loader = torch.utils.data.DataLoader(dataset, num_workers=cfg.training.num_workers,
                                         batch_size=cfg.training.batch_size, shuffle=True,
                                         pin_memory=device.type != "cpu", drop_last=False)
    batches = cycle(loader)

    policy.train()
    for step in range(cfg.training.offline_steps):
        batch = next(batches)
        batch = {k: v.to(device, non_blocking=True) for k, v in batch.items()}
        info = update_policy(policy, batch, optimizer, cfg.training.grad_clip_norm, grad_scaler=grad_scaler,
                             lr_scheduler=lr_scheduler, use_amp=cfg.use_amp)
        if step % cfg.training.log_freq == 0:
            logger.log_dict(info, step, mode="train")
        if cfg.training.save_checkpoint and (step + 1) % cfg.training.save_freq == 0:
            logger.save_checkpont(step + 1, policy, optimizer, lr_scheduler, identifier=str(step + 1))


@hydra.main(version_base="1.2", config_name="default", config_path="../configs")
def train_cli(cfg: dict):
    train(cfg, out_dir=hydra.core.hydra_config.HydraConfig.get().run.dir,
          job_name=hydra.core.hydra_config.HydraConfig.get().job.name)


if __name__ == "__main__":
    train_cli()
