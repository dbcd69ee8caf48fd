import os
import random

import pandas as pd
import torch
import torchvision
from skimage import io
from torchvision import transforms
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor

from detecto.config import config
from detecto.utils import _is_iterable, default_transforms, filter_top_predictions, xml_to_csv


def _collate(batch):
    # keep images and targets as parallel lists; detection models take lists
    imgs, tgts = zip(*batch)
    return list(imgs), list(tgts)


class DataLoader(torch.utils.data.DataLoader):

    def __init__(self, dataset, **kwargs):
        """Iterates a :class:`detecto.core.Dataset` in (images, targets) batches."""
        super().__init__(dataset, collate_fn=_collate, **kwargs)


class Dataset(torch.utils.data.Dataset):

    def __init__(self, label_data, image_folder=None, transform=None):
        """Images with their box labels, read from a CSV file (filename, width,
        height, class, xmin, ymin, xmax, ymax) or from a folder of XML files.

        :param transform: applied to every image; when None the
            :func:`detecto.utils.default_transforms` are used.
        """
        self._table = pd.read_csv(label_data) if os.path.isfile(label_data) else xml_to_csv(label_data)
        self._img_dir = image_folder or label_data
        self.transform = transform if transform is not None else default_transforms()

    def __len__(self):
        return self._table.shape[0]

    def __getitem__(self, i):
        if torch.is_tensor(i):
            i = i.tolist()
        row = self._table.iloc[i]
        img = io.imread(os.path.join(self._img_dir, row['filename']))
        box = torch.tensor([row['xmin'], row['ymin'], row['xmax'], row['ymax']]).view(1, 4)
        target = {'boxes': box, 'labels': row['class']}
        if not self.transform:
            return img, target

        w, h = row['width'], row['height']
        ratio, p_flip = 1.0, 0.0
        # a Resize or a horizontal flip must also move the box
        for step in self.transform.transforms:
            if isinstance(step, transforms.Resize):
                ratio = min(w, h) / step.size
            elif isinstance(step, transforms.RandomHorizontalFlip):
                p_flip = step.p
        for step in self.transform.transforms:
            if not isinstance(step, transforms.RandomHorizontalFlip):
                img = step(img)
            elif random.random() < p_flip:
                img = transforms.RandomHorizontalFlip(1)(img)
                box[0, 0], box[0, 2] = w - box[0, 2], w - box[0, 0]
        target['boxes'] = (box / ratio).long()
        return img, target


class Model:

    def __init__(self, classes=None, device=None):
        """Object detector on top of torchvision's COCO-pretrained Faster R-CNN
        (ResNet-50 FPN); give `classes` to train a new box predictor for them.

        :param classes: labels to detect; COCO's labels when None.
        :param device: torch device, the GPU if there is one by default.
        """
        self._device = device or config['default_device']
        self._net = torchvision.models.detection.fasterrcnn_resnet50_fpn(pretrained=True)

        if classes:
            n_feat = self._net.roi_heads.box_predictor.cls_score.in_features
            self._net.roi_heads.box_predictor = FastRCNNPredictor(n_feat, len(classes) + 1)  # + background
            self._raw_input = False
        else:
            classes = config['default_classes']
            self._raw_input = True
        self._net.to(self._device)

        self._classes = ['__background__'] + classes
        self._label_to_int = {name: k for k, name in enumerate(self._classes)}

    def _infer(self, images):
        self._net.eval()
        if not _is_iterable(images):
            images = [images]
        if not isinstance(images[0], torch.Tensor):
            # TODO workaround for the stock weights for now; find out why
            prep = transforms.ToTensor() if self._raw_input else default_transforms()
            images = [prep(im) for im in images]
        with torch.no_grad():
            out = self._net([im.to(self._device) for im in images])
        return [{key: val.cpu() for key, val in o.items()} for o in out]

    def predict(self, images):
        """(labels, boxes, scores) for an image, or a list of those for a list of
        images; images that are not tensors get :func:`detecto.utils.default_transforms`."""
        batch = images if _is_iterable(images) else [images]
        res = [([self._classes[k] for k in o['labels']], o['boxes'], o['scores']) for o in self._infer(batch)]
        return res if _is_iterable(images) else res[0]

    def predict_top(self, images):
        """predict(), keeping the best box of each label."""
        res = self.predict(images)
        return [filter_top_predictions(*r) for r in res] if isinstance(res, list) else filter_top_predictions(*res)

    def fit(self, dataset, val_dataset=None, epochs=10, learning_rate=0.005, momentum=0.9,
            weight_decay=0.0005, gamma=0.1, lr_step_size=3, verbose=False):
        """Trains on a Dataset or DataLoader and returns the per-epoch validation
        losses when a val_dataset is given."""
        # TODO training data comes normalized, so from now on normalize at inference too
        if epochs > 0:
            self._raw_input = False

        train_dl = dataset if isinstance(dataset, DataLoader) else DataLoader(dataset, shuffle=True)
        if val_dataset is not None and not isinstance(val_dataset, DataLoader):
            val_dataset = DataLoader(val_dataset)

        opt = torch.optim.SGD([p for p in self._net.parameters() if p.requires_grad], lr=learning_rate,
                              momentum=momentum, weight_decay=weight_decay)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=lr_step_size, gamma=gamma)
        history = []

        for ep in range(epochs):
            if verbose:
                print(f'epoch {ep + 1} of {epochs}')
            self._net.train()
            for imgs, tgts in train_dl:
                loss = self._batch_loss(imgs, tgts)
                opt.zero_grad()
                loss.backward()
                opt.step()

            if val_dataset is not None:
                with torch.no_grad():
                    total = sum(self._batch_loss(imgs, tgts).item() for imgs, tgts in train_dl)
                history.append(total / len(val_dataset.dataset))
                if verbose:
                    print(f'loss {history[-1]}')
            sched.step()

        return history or None

    def _batch_loss(self, imgs, tgts):
        for t in tgts:
            t['labels'] = torch.tensor(self._label_to_int[t['labels']]).view(1)
        imgs = [im.to(self._device) for im in imgs]
        tgts = [{key: val.to(self._device) for key, val in t.items()} for t in tgts]
        return sum(self._net(imgs, tgts).values())

    def get_internal_model(self):
        """The wrapped torchvision Faster R-CNN."""
        return self._net

    def save(self, file):
        torch.save(self._net.state_dict(), file)

    @staticmethod
    def load(file, classes):
        """A Model for `classes` (in training order) with weights read from `file`."""
        m = Model(classes)
        m._net.load_state_dict(torch.load(file, map_location=m._device))
        return m
