import torch
from torch.utils.data import DataLoader
from transformers import AdamW, TrOCRProcessor, VisionEncoderDecoderModel, get_scheduler

from .configs import constants
from .context import Context


def predict(processor, model, dataloader):
    results = []
    with torch.no_grad():
        for step, batch in enumerate(dataloader):
            pixels = batch["input"].to(constants.device)
            ids = model.generate(pixels)
            texts = processor.batch_decode(ids, skip_special_tokens=True)
            results.extend(zip([t.item() for t in batch["idx"]], texts))
    return results


def validate(context, print_wrong=False):
    predictions = predict(context.processor, context.model, context.val_dataloader)
    right = 0
    for idx, text in predictions:
        if text == context.val_dataset.get_label(idx):
            right += 1
        elif print_wrong:
            print("Predicted:", text, "| Label:", context.val_dataset.get_label(idx))
    return right / len(predictions)


def train(context, num_epochs=5):
    model = context.model
    optimizer = AdamW(model.parameters(), lr=constants.LEARNING_RATE)
    steps = num_epochs * len(context.train_dataloader)
    scheduler = get_scheduler("linear", optimizer=optimizer, num_warmup_steps=0, num_training_steps=steps)

    model.to(constants.device)
    model.train()

    for epoch in range(num_epochs):
        for step, batch in enumerate(context.train_dataloader):
            pixels = batch["input"].to(constants.device)
            labels = batch["label"].to(constants.device)
            loss = model(pixel_values=pixels, labels=labels).loss
            loss.backward()
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)

        if len(context.val_dataloader) > 0:
            acc = validate(context)
            print(f"---- Epoch {epoch + 1} ---- accuracy: {acc}")
