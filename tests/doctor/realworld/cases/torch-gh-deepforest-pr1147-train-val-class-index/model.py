# Classifier for the crops cut out around detections
import numpy as np
import torch
import torch.nn.functional as F
import torchmetrics
from huggingface_hub import PyTorchModelHubMixin
from PIL import Image
from pytorch_lightning import LightningModule, Trainer
from torchvision import models, transforms
from torchvision.datasets import ImageFolder


def resnet50_classifier(n_out=2):
    net = models.resnet50(weights=models.ResNet50_Weights.DEFAULT)
    net.fc = torch.nn.Linear(net.fc.in_features, n_out)
    return net


class CropModel(LightningModule, PyTorchModelHubMixin):
    """Classifies detection crops with a ResNet-50 (or a model you pass in).

    label_dict maps class names to indices, e.g. {"Bird": 0, "Mammal": 1}; when neither it nor
    num_classes is given, load_from_disk() builds the model from the folders it reads.
    """

    def __init__(self, num_classes=None, batch_size=4, num_workers=0, lr=1e-4, label_dict=None, model=None):
        super().__init__()
        self.batch_size, self.num_workers, self.lr = batch_size, num_workers, lr
        self.label_dict = label_dict
        self.idx_to_label = None if label_dict is None else {i: name for name, i in label_dict.items()}
        self.num_classes = num_classes if num_classes is not None else (len(label_dict) if label_dict else None)

        if model is not None:
            self.model = model
        elif self.num_classes is not None:
            self.create_model(self.num_classes)
        else:
            self.model = None
            print("CropModel: no classes known yet, call load_from_disk() or load a checkpoint.")

    def create_model(self, num_classes):
        self.metrics = torchmetrics.MetricCollection({
            "per_class_acc": torchmetrics.Accuracy(task="multiclass", num_classes=num_classes, average="none"),
            "acc": torchmetrics.Accuracy(task="multiclass", num_classes=num_classes),
            "precision": torchmetrics.Precision(task="multiclass", num_classes=num_classes),
        })
        self.model = resnet50_classifier(num_classes)

    def create_trainer(self, **kwargs):
        self.trainer = Trainer(**kwargs)

    def on_save_checkpoint(self, checkpoint):
        checkpoint.update(label_dict=self.label_dict, num_classes=self.num_classes)

    def on_load_checkpoint(self, checkpoint):
        self.num_classes = checkpoint["num_classes"]
        self.label_dict = checkpoint["label_dict"]
        self.idx_to_label = {i: name for name, i in self.label_dict.items()}
        self.create_model(self.num_classes)
        self.load_state_dict(checkpoint["state_dict"])

    def load_from_disk(self, train_dir, val_dir, recreate_model=False):
        """Reads the training and validation crops, one sub-folder per class.

        Args:
            train_dir: folder of training crops.
            val_dir: folder of validation crops.
            recreate_model: build a fresh model with as many outputs as classes found.
        """
        self.train_ds = ImageFolder(root=train_dir, transform=self.get_transform(augment=True))
        self.val_ds = ImageFolder(root=val_dir, transform=self.get_transform(augment=False))
        self.label_dict = self.train_ds.class_to_idx
        self.idx_to_label = {i: name for name, i in self.label_dict.items()}

        if recreate_model:
            self.num_classes = len(self.label_dict)
            self.create_model(self.num_classes)

    def get_transform(self, augment):
        ops = [transforms.ToTensor(), self.normalize(), transforms.Resize([224, 224])]
        if augment:
            ops.append(transforms.RandomHorizontalFlip(0.5))
        return transforms.Compose(ops)

    def normalize(self):
        return transforms.Normalize(mean=[0.485, 0.456, 0.406], std=[0.229, 0.224, 0.225])

    def forward(self, x):
        if self.model is None:
            raise AttributeError("CropModel has no network yet.")
        return self.model(x)

    def _loader(self, ds, shuffle=False):
        return torch.utils.data.DataLoader(ds, batch_size=self.batch_size, shuffle=shuffle,
                                           num_workers=self.num_workers)

    def train_dataloader(self):
        return self._loader(self.train_ds, shuffle=True)

    def val_dataloader(self):
        return self._loader(self.val_ds)

    def predict_dataloader(self, ds):
        return self._loader(ds)

    def training_step(self, batch, batch_idx):
        images, targets = batch
        loss = F.cross_entropy(self(images), targets)
        self.log("train_loss", loss)
        return loss

    def validation_step(self, batch, batch_idx):
        images, targets = batch
        logits = self(images)
        loss = F.cross_entropy(logits, targets)
        self.log("val_loss", loss)
        for name, value in self.metrics(logits, targets).items():
            if value.numel() == 1:
                self.log(name, value, on_step=False, on_epoch=True)
                continue
            for i, v in enumerate(value):
                label = self.idx_to_label.get(i, str(i)) if self.idx_to_label else str(i)
                self.log(f"{name}/{label}", v, on_step=False, on_epoch=True)
        return loss

    def predict_step(self, batch, batch_idx):
        images = batch[0] if isinstance(batch, list) else batch
        return F.softmax(self(images), dim=1)

    def postprocess_predictions(self, predictions):
        probs = np.vstack(np.concatenate(predictions))
        return probs.argmax(axis=1), probs.max(axis=1)

    def configure_optimizers(self):
        opt = torch.optim.Adam(self.parameters(), lr=self.lr)
        plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=10)
        return {"optimizer": opt, "lr_scheduler": plateau, "monitor": "val_loss"}

    def val_dataset_confusion(self, return_images=False):
        """(true, predicted) labels of the validation crops, for a confusion matrix."""
        preds = self.trainer.predict(self, self.predict_dataloader(self.val_ds))
        predicted, _ = self.postprocess_predictions(preds)
        true = [y for _, y in self.val_ds.imgs]
        if not return_images:
            return true, predicted
        return [Image.open(p) for p, _ in self.val_ds.imgs], true, predicted
