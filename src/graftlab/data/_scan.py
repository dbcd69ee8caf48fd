"""What a folder or CSV reader hands to the loader: candidate files with label names, before
any file is decoded or any class index is assigned."""

from __future__ import annotations

from dataclasses import dataclass, field

# Which extensions count as images. Anything else in a class folder is counted, not decoded:
# README files, .DS_Store and annotation files are common in downloaded datasets.
IMAGE_EXTENSIONS = frozenset(
    {
        ".jpg",
        ".jpeg",
        ".jpe",
        ".jfif",
        ".png",
        ".bmp",
        ".gif",
        ".tif",
        ".tiff",
        ".webp",
        ".ppm",
        ".pgm",
        ".pbm",
        ".pnm",
    }
)

# The keys of ``Dataset.ignored``, always all present so the summary has a fixed shape.
IGNORED_KEYS = ("hidden", "non_image", "empty_class_folders", "loose_files")

# Split folder / column names users write, mapped to graftlab's three split names.
SPLIT_ALIASES = {
    "train": "train",
    "training": "train",
    "val": "val",
    "valid": "val",
    "validation": "val",
    "test": "test",
    "testing": "test",
}


def is_image_file(name: str) -> bool:
    """Whether a file name has an image extension (case-insensitive)."""
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in IMAGE_EXTENSIONS


@dataclass(frozen=True)
class Candidate:
    """A file to decode, with its label name(s) and the split the data gives it (if any)."""

    path: str
    labels: tuple[str, ...]
    split: str | None
    where: str  # where the label came from, for error messages ("train/cat", "labels.csv:12")


@dataclass
class Scan:
    """The result of reading a folder tree or a CSV."""

    items: list[Candidate]
    multilabel: bool
    layout: str  # "folders", "split-folders" or "csv"; used in messages and the summary
    ignored: dict[str, int] = field(default_factory=lambda: dict.fromkeys(IGNORED_KEYS, 0))
    # Where each split came from ("val/" or "valid/"), to name it in messages.
    split_sources: dict[str, str] = field(default_factory=dict)
