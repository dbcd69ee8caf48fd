import torch
from transformers import AutoProcessor, VisionEncoderDecoderModel


def predict(processor, model, loader):
    texts = []
    with torch.no_grad():
        for batch in loader:
            ids = model.generate(batch["pixel_values"].cuda())
            texts.extend(processor.batch_decode(ids, skip_special_tokens=True))
    return texts


def train(model, processor, train_loader, val_loader, val_texts, epochs=10):
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    model.cuda()
    model.train()
    for epoch in range(epochs):
        for batch in train_loader:
            loss = model(pixel_values=batch["pixel_values"].cuda(), labels=batch["labels"].cuda()).loss
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        model.eval()
        preds = predict(processor, model, val_loader)
        model.train()
        print(epoch, sum(p == t for p, t in zip(preds, val_texts)) / len(val_texts))
