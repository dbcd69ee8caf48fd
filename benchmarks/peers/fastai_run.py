"""fastai peer: ``vision_learner(...).fine_tune(n)``, default and documented recipes, timm model.

Runs in benchmarks/.venvs/fastai (see setup_peers.sh). The learner is built exactly as a
fastai user builds it from a timm name; the only change is where the pretrained weights come
from (the packaged ImageNet file, converted once to timm's names and passed to timm through
``pretrained_cfg_overlay``), since there is no network.

Variants:
  default  the recipe as written: ImageDataLoaders.from_folder(valid_pct=0.15, Resize(size)),
           fp32, fastai's default workers and batch size, ``fine_tune(epochs)`` at fastai's
           default base_lr 2e-3: one frozen one-cycle epoch trains the head at 2e-3, then the
           whole net trains one-cycle with discriminative rates from 1e-5 (body) to 1e-3
           (head) (base_lr halved, lr_mult=100).
  lrfind   the recipe fastai's documentation teaches: ChannelsLast, ``learn.lr_find()``, then
           ``fine_tune(epochs, base_lr=<the curve's valley>)``; the lr_find curve and the
           suggestion are in the result, and lr_find's time is on the clock.
  tuned    the default recipe with fastai's best settings for a CPU like these: its
           ChannelsLast callback, fp32. channels_last is 2x faster than NCHW for this
           backbone's forward pass here, and a bf16 training step is 1.5x slower than an
           fp32 channels_last one on an AVX512-BF16 CPU without AMX (graftlab's execution
           measurement, printed in each training log), so the expert's choice on this
           machine is channels_last without bf16.
  lrfind-frozen-bn  lrfind with ``vision_learner(train_bn=False)``: the body's BatchNorm
           layers keep their ImageNet statistics and weights while the body is frozen (fastai's
           default, ``train_bn=True``, trains them and re-estimates their statistics in the
           frozen epoch). Not a recipe fastai teaches: the experiment behind the explanation of
           why fastai ends below a linear probe on the same backbone (benchmarks/README.md).
  lrfind-mult5  lrfind with ``lr_mult=5`` instead of 100: the body trains at a fifth of the
           head's rate instead of a hundredth (the second half of that experiment).
  bf16     ChannelsLast plus bf16 autocast, for CPUs with AMX. fastai's own ``to_bf16``
           enters ``autocast("cuda")`` and so does nothing on a CPU; the five-line callback
           below is what an expert would add.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import _common as common

CLOCK = common.Clock()  # from process start: fastai's import time is part of the user's wait
import torch  # noqa: E402
from fastai.callback.channelslast import ChannelsLast  # noqa: E402
from fastai.vision.all import (  # noqa: E402
    Callback,
    ImageDataLoaders,
    Resize,
    accuracy,
    get_image_files,
    set_seed,
    vision_learner,
)

IMPORT_SECONDS = CLOCK.elapsed()


class CpuBf16(Callback):
    """bf16 autocast on the CPU for the forward pass and loss, fp32 weights and optimiser."""

    order = 10

    def before_batch(self):
        self.ctx = torch.autocast("cpu", dtype=torch.bfloat16)
        self.ctx.__enter__()

    def after_pred(self):
        self.learn.pred = self.pred.float()

    def after_loss(self):
        self.ctx.__exit__(None, None, None)


class TestCurve(Callback):
    """After each epoch: time so far and test accuracy (clock paused while measuring it).

    Intermediate epochs are scored on a fixed 2,000-image subset of the test set, the last
    epoch on all of it: scoring 10,000 images after every epoch would cost a CPU as much as
    the training it measures.
    """

    order = 70  # after the Recorder has written the epoch's losses and metrics

    def __init__(
        self, clock: common.Clock, subset_dl, full_dl, n_epochs: int, scoring: dict
    ) -> None:
        self.clock, self.subset_dl, self.full_dl, self.n_epochs = (
            clock,
            subset_dl,
            full_dl,
            n_epochs,
        )
        self.scoring = scoring  # the precision and memory format the variant trains in
        self.points: list[dict] = []

    def after_epoch(self):
        seconds, cpu = self.clock.elapsed(), self.clock.cpu_elapsed()
        self.clock.pause()
        train_loss, _valid_loss, valid_acc = (float(v) for v in self.learn.recorder.values[-1])
        last = len(self.points) + 1 == self.n_epochs
        dl = self.full_dl if last else self.subset_dl
        point = {
            "epoch": len(self.points) + 1,
            "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu, 1),
            "train_loss": round(train_loss, 4),
            "val_accuracy": round(valid_acc, 4),
            "test_accuracy": round(common.test_accuracy(self.learn.model, dl, **self.scoring), 4),
            "test_images": len(dl.dataset),
        }
        self.points.append(point)
        common.log(f"epoch {point}")
        self.learn.model.train()
        self.clock.resume()


#: variant -> (callbacks added to the learner, how the recipe reads in the results)
CALLBACKS = {
    "default": [],
    "tuned": [ChannelsLast],
    "lrfind": [ChannelsLast],
    "lrfind-frozen-bn": [ChannelsLast],
    "lrfind-mult5": [ChannelsLast],
    "bf16": [ChannelsLast, CpuBf16],
}
RECIPES = {
    "default": "fp32",
    "tuned": "ChannelsLast, fp32",
    "lrfind": "ChannelsLast, fp32, lr_find valley",
    "lrfind-frozen-bn": "ChannelsLast, fp32, lr_find valley, train_bn=False",
    "lrfind-mult5": "ChannelsLast, fp32, lr_find valley, lr_mult=5",
    "bf16": "ChannelsLast + CPU bf16",
}
#: how each variant's curve points are scored: the precision and layout it trains in
SCORING = {
    "default": {},
    "tuned": {"channels_last": True},
    "lrfind": {"channels_last": True},
    "lrfind-frozen-bn": {"channels_last": True},
    "lrfind-mult5": {"channels_last": True},
    "bf16": {"channels_last": True, "bf16": True},
}


def fastai_test_accuracy(learn, dl) -> float:
    """fastai's own evaluation: ``get_preds`` through the learner and its callbacks."""
    preds, targets = learn.get_preds(dl=dl)
    return float((preds.argmax(1) == targets).float().mean())


def convert_weights(workdir: Path) -> Path:
    """The packaged ImageNet weights under timm's parameter names, as a file timm can load."""
    path = workdir / f"{common.BACKBONE}_packaged.pth"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        torch.save(common.create_lite0(1000).state_dict(), path)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="root with train/ and test/")
    parser.add_argument("--image-size", type=int, default=112)
    parser.add_argument("--epochs", type=int, default=3, help="fine_tune(epochs)")
    parser.add_argument("--freeze-epochs", type=int, default=1, help="fastai's default: 1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--variant", choices=tuple(RECIPES), default="default")
    parser.add_argument("--num-workers", type=int, default=None, help="default: fastai's")
    parser.add_argument("--workdir", type=Path, default=Path("benchmarks/out/work"))
    args = parser.parse_args()

    clock = CLOCK
    clock.pause()  # benchmark plumbing, not on the clock: a user would download these
    weights = convert_weights(args.workdir)
    clock.resume()
    set_seed(args.seed)
    loader_kw = {} if args.num_workers is None else {"num_workers": args.num_workers}
    dls = ImageDataLoaders.from_folder(
        args.data / "train",
        valid_pct=common.VAL_FRACTION,
        seed=args.seed,
        item_tfms=Resize(args.image_size),
        **loader_kw,
    )
    learn = vision_learner(
        dls,
        common.BACKBONE,
        metrics=accuracy,
        pretrained=True,
        pretrained_cfg_overlay={"file": str(weights)},
        **({"train_bn": False} if args.variant == "lrfind-frozen-bn" else {}),
    )
    learn.add_cbs([cb() for cb in CALLBACKS[args.variant]])

    clock.pause()  # the test loader is for the benchmark's curve only
    test_files = list(get_image_files(args.data / "test"))
    full_dl = dls.test_dl(test_files, with_labels=True, bs=256)
    subset_dl = dls.test_dl(common.curve_subset(test_files), with_labels=True, bs=256)
    n_epochs = args.epochs + args.freeze_epochs
    curve_cb = TestCurve(clock, subset_dl, full_dl, n_epochs, SCORING[args.variant])
    clock.resume()

    setup_seconds = clock.elapsed()
    lr_find = None
    with learn.no_bar():
        if args.variant.startswith("lrfind"):
            found = learn.lr_find(show_plot=False)
            lrs, losses = learn.recorder.lrs, learn.recorder.losses
            step = max(1, len(lrs) // 50)
            lr_find = {
                "valley": float(found.valley),
                "seconds": round(clock.elapsed() - setup_seconds, 2),
                "curve": [
                    {"lr": float(lr), "loss": round(float(loss), 4)}
                    for lr, loss in list(zip(lrs, losses, strict=False))[::step]
                ],
            }
            common.log(f"lr_find: valley {found.valley:.2e} in {lr_find['seconds']} s")
        base_lr = {"base_lr": lr_find["valley"]} if lr_find else {}
        if args.variant == "lrfind-mult5":
            base_lr["lr_mult"] = 5
        learn.fine_tune(args.epochs, freeze_epochs=args.freeze_epochs, cbs=[curve_cb], **base_lr)
    wall = clock.elapsed()
    clock.pause()
    with learn.no_bar():
        own_accuracy = fastai_test_accuracy(learn, full_dl)
    common.log(f"fastai get_preds test accuracy {own_accuracy:.4f}")

    n_train = len(dls.train_ds)
    common.emit(
        {
            "runner": f"fastai-{args.variant}",
            "recipe": (
                f"vision_learner(timm {common.BACKBONE}).fine_tune({args.epochs}, "
                f"freeze_epochs={args.freeze_epochs}"
                + (f", base_lr={lr_find['valley']:.2e}" if lr_find else "")
                + f"), Resize({args.image_size}), "
                f"bs={dls.bs}, workers={dls.train.fake_l.num_workers}"
                + f", {RECIPES[args.variant]}"
            ),
            "n_train": n_train,
            "n_val": len(dls.valid_ds),
            "n_test": len(test_files),
            "image_size": args.image_size,
            "import_seconds": round(IMPORT_SECONDS, 2),
            "setup_seconds": round(setup_seconds, 2),
            "wall_seconds": round(wall, 2),
            "train_cpu_seconds": round(clock.cpu_elapsed(), 1),
            "train_images_per_second": round(n_train * n_epochs / wall, 1),
            # scored the way fastai scores itself: get_preds through the learner, fp32
            "test_accuracy": round(own_accuracy, 4),
            "curve_test_accuracy": curve_cb.points[-1]["test_accuracy"],
            "curve": curve_cb.points,
            "lr_find": lr_find,
        }
    )


if __name__ == "__main__":
    main()
