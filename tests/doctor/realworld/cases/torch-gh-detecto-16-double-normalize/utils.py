import os
import xml.etree.ElementTree as ET
from glob import glob

import pandas as pd
import torch
from skimage import io
from torchvision import transforms


def default_transforms():
    """The minimal transforms applied to images given to :mod:`detecto.core`:
    a ToTensor followed by :func:`normalize_transform`.

    Example::

        >>> from detecto.core import Dataset
        >>> from detecto.utils import default_transforms
        >>> dataset = Dataset('labels.csv', 'images/', transform=default_transforms())
    """
    return transforms.Compose([transforms.ToTensor(), normalize_transform()])


def filter_top_predictions(labels, boxes, scores):
    """Keeps only the best-scoring prediction of each label (the same
    output as :meth:`detecto.core.Model.predict_top`)."""
    kept_labels, kept_boxes, kept_scores = [], [], []
    for label in set(labels):
        # predictions are sorted by score, so the first hit is the best one
        i = labels.index(label)
        kept_labels.append(label)
        kept_boxes.append(boxes[i])
        kept_scores.append(scores[i])
    if not kept_labels:
        return kept_labels, torch.empty(0, 4), torch.tensor(kept_scores)
    return kept_labels, torch.stack(kept_boxes), torch.tensor(kept_scores)


def normalize_transform():
    """A transforms.Normalize with the mean and std that PyTorch's
    pretrained models expect.

    Example::

        >>> from torchvision import transforms
        >>> from detecto.utils import normalize_transform
        >>> tf = transforms.Compose([transforms.ToTensor(), normalize_transform()])
    """
    return transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])


def read_image(path):
    """Reads an image file into a NumPy array (skimage's io.imread)."""
    return io.imread(path)


def reverse_normalize(image):
    """Undoes :func:`normalize_transform` on a tensor image, e.g. for plotting."""
    undo = transforms.Normalize(mean=[-0.485 / 0.229, -0.456 / 0.224, -0.406 / 0.255],
                                std=[1 / 0.229, 1 / 0.224, 1 / 0.255])
    return undo(image)


def xml_to_csv(xml_folder, output_file=None):
    """Collects the Pascal VOC XML label files of a folder into one DataFrame
    (filename, width, height, class, xmin, ymin, xmax, ymax)."""
    rows = []
    for xml_file in glob(os.path.join(xml_folder, '*.xml')):
        root = ET.parse(xml_file).getroot()
        filename = root.find('filename').text
        size = root.find('size')
        width, height = int(size.find('width').text), int(size.find('height').text)
        for obj in root.findall('object'):
            box = obj.find('bndbox')
            rows.append((filename, width, height, obj.find('name').text,
                         int(float(box.find('xmin').text)), int(float(box.find('ymin').text)),
                         int(float(box.find('xmax').text)), int(float(box.find('ymax').text))))
    df = pd.DataFrame(rows, columns=['filename', 'width', 'height', 'class', 'xmin', 'ymin', 'xmax', 'ymax'])
    if output_file is not None:
        df.to_csv(output_file, index=False)
    return df


def _is_iterable(variable):
    # only lists and tuples count as batches of images
    return isinstance(variable, (list, tuple))
