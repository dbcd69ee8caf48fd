"""graftlab.data: load images and labels into a :class:`Dataset` with fixed, saved splits.

``load_dataset`` reads a class-per-folder tree (with or without train/val/test folders) or a
``path,label[,split]`` CSV, decodes every file once to find bad ones, and makes the missing
splits stratified with a fixed seed. ``decode_image`` is the one way images are decoded.
"""

from graftlab.data.dataset import SPLITS, Dataset, DataWarning, ImageInfo, Record
from graftlab.data.decode import decode_image
from graftlab.data.load import load_dataset

__all__ = [
    "SPLITS",
    "DataWarning",
    "Dataset",
    "ImageInfo",
    "Record",
    "decode_image",
    "load_dataset",
]
