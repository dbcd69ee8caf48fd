"""Fine-tune a timm model with its own data config (resolve_data_config / create_transform)."""

import timm
import torch
from timm.data import create_transform, resolve_data_config
from torch.utils.data import DataLoader
from torchvision.datasets import ImageFolder

NUM_CLASSES = 5
model = timm.create_model("efficientnet_b0", pretrained=True, num_classes=NUM_CLASSES)
config = resolve_data_config({}, model=model)
train_tf = create_transform(**config, is_training=True)
eval_tf = create_transform(**config)

train_ds = ImageFolder("flowers/train", transform=train_tf)
val_ds = ImageFolder("flowers/val", transform=eval_tf)
train_dl = DataLoader(train_ds, batch_size=32, shuffle=True, num_workers=4)
val_dl = DataLoader(val_ds, batch_size=64, num_workers=4)

head_params = list(model.get_classifier().parameters())
head_ids = {id(p) for p in head_params}
body_params = [p for p in model.parameters() if id(p) not in head_ids]
optimizer = torch.optim.AdamW(
    [{"params": body_params, "lr": 2e-5}, {"params": head_params, "lr": 1e-3}],
    weight_decay=0.05,
)
loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1)

for epoch in range(10):
    model.train()
    for x, y in train_dl:
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()

    model.eval()
    correct = total = 0
    with torch.inference_mode():
        for x, y in val_dl:
            pred = model(x).argmax(dim=1)
            correct += (pred == y).sum().item()
            total += y.numel()
    print(f"epoch {epoch}: val acc {correct / total:.3f}")
