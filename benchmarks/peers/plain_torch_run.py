"""Plain PyTorch + timm peer: the fine-tuning loop as people write it.

torchvision ImageFolder + DataLoader, eager fp32, ``model.reset_classifier``, Adam on every
parameter, a seeded ``random_split`` for validation, evaluation after each epoch. The test set
is scored by the loop's own ``evaluate`` (fp32, eval mode), as its author would.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import _common as common

CLOCK = common.Clock()  # from process start: import time is part of the user's wait
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, random_split  # noqa: E402
from torchvision import datasets, transforms  # noqa: E402


@torch.inference_mode()
def evaluate(model: nn.Module, loader: DataLoader) -> float:
    model.eval()
    correct = total = 0
    for x, y in loader:
        correct += int((model(x).argmax(1) == y).sum())
        total += len(y)
    return correct / total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="root with train/ and test/")
    parser.add_argument("--image-size", type=int, default=112)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1e-4, help="the usual fine-tuning Adam lr")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--num-workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    clock = CLOCK
    torch.manual_seed(args.seed)
    model = common.create_lite0(num_classes=10)
    cfg = common.data_config(model)
    tfm = transforms.Compose(
        [
            transforms.Resize((args.image_size, args.image_size)),
            transforms.ToTensor(),
            transforms.Normalize(cfg["mean"], cfg["std"]),
        ]
    )
    full = datasets.ImageFolder(args.data / "train", transform=tfm)
    n_val = round(len(full) * common.VAL_FRACTION)
    generator = torch.Generator().manual_seed(args.seed)
    train_ds, val_ds = random_split(full, [len(full) - n_val, n_val], generator=generator)
    loader_kw = {"batch_size": args.batch_size, "num_workers": args.num_workers}
    train_dl = DataLoader(train_ds, shuffle=True, **loader_kw)
    val_dl = DataLoader(val_ds, **loader_kw)
    test_ds = datasets.ImageFolder(args.data / "test", transform=tfm)
    # the curve's intermediate points use a fixed subset, the last epoch all of the test set
    subset = common.curve_subset(list(range(len(test_ds))))
    curve_dl = DataLoader(torch.utils.data.Subset(test_ds, subset), batch_size=256)
    test_dl = DataLoader(test_ds, batch_size=256, num_workers=args.num_workers)

    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr)
    criterion = nn.CrossEntropyLoss()
    curve = []
    for epoch in range(1, args.epochs + 1):
        model.train()
        running = 0.0
        for x, y in train_dl:
            optimizer.zero_grad()
            loss = criterion(model(x), y)
            loss.backward()
            optimizer.step()
            running += loss.item() * len(y)
        val_acc = evaluate(model, val_dl)
        seconds, cpu = clock.elapsed(), clock.cpu_elapsed()
        clock.pause()  # test accuracy per epoch is for the benchmark's curve only
        dl = test_dl if epoch == args.epochs else curve_dl
        point = {
            "epoch": epoch,
            "seconds": round(seconds, 2),
            "cpu_seconds": round(cpu, 1),
            "train_loss": round(running / len(train_ds), 4),
            "val_accuracy": round(val_acc, 4),
            "test_accuracy": round(evaluate(model, dl), 4),  # its own fp32 evaluation
            "test_images": len(dl.dataset),
        }
        curve.append(point)
        common.log(f"epoch {point}")
        clock.resume()
    wall = clock.elapsed()

    common.emit(
        {
            "runner": "plain-torch",
            "recipe": (
                f"ImageFolder + DataLoader(bs={args.batch_size}, workers={args.num_workers}), "
                f"Resize({args.image_size}), eager fp32, Adam(lr={args.lr}) on all parameters, "
                f"{args.epochs} epochs"
            ),
            "n_train": len(train_ds),
            "n_val": len(val_ds),
            "n_test": len(test_ds),
            "image_size": args.image_size,
            "wall_seconds": round(wall, 2),
            "train_cpu_seconds": round(clock.cpu_elapsed(), 1),
            "train_images_per_second": round(len(train_ds) * args.epochs / wall, 1),
            "test_accuracy": curve[-1]["test_accuracy"],
            "curve": curve,
        }
    )


if __name__ == "__main__":
    main()
