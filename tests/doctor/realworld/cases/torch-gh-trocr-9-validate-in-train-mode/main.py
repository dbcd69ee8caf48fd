from transformers import TrOCRProcessor, VisionEncoderDecoderModel

from .context import Context
from .dataset import HCRDataset
from .scripts import train, validate
from .configs import paths


def main_train():
    processor = TrOCRProcessor.from_pretrained("microsoft/trocr-base-handwritten")
    model = VisionEncoderDecoderModel.from_pretrained("microsoft/trocr-base-handwritten")
    train_ds = HCRDataset(paths.train_dir, processor)
    val_ds = HCRDataset(paths.val_dir, processor)
    context = Context(model, processor, train_ds, val_ds)
    train(context, num_epochs=8)
    model.save_pretrained(paths.model_path)
