"""Fine-tune EfficientNet-B0 from torchvision with the preprocessing bundled in its weights.

`weights.transforms()` gives the exact resize / crop / normalisation the checkpoint was
trained with; training adds augmentation on top of the same normalisation.
"""
import argparse
import copy

import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms
from torchvision.models import EfficientNet_B0_Weights, efficientnet_b0


def build_loaders(root, weights, batch_size):
    eval_tf = weights.transforms()
    train_tf = transforms.Compose([
        transforms.RandomResizedCrop(eval_tf.crop_size[0], antialias=True),
        transforms.RandomHorizontalFlip(),
        transforms.ToTensor(),
        transforms.Normalize(mean=eval_tf.mean, std=eval_tf.std),
    ])
    train_set = datasets.ImageFolder(f"{root}/train", transform=train_tf)
    val_set = datasets.ImageFolder(f"{root}/val", transform=eval_tf)
    if val_set.class_to_idx != train_set.class_to_idx:
        raise SystemExit("train and val folders name different classes")
    train_loader = DataLoader(train_set, batch_size=batch_size, shuffle=True, num_workers=4, pin_memory=True)
    val_loader = DataLoader(val_set, batch_size=batch_size, shuffle=False, num_workers=4, pin_memory=True)
    return train_loader, val_loader, train_set.classes


def run_epoch(model, loader, criterion, device, optimizer=None):
    training = optimizer is not None
    if training:
        model.train()
    else:
        model.eval()
    total_loss, correct, seen = 0.0, 0, 0
    with torch.set_grad_enabled(training):
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            logits = model(images)
            loss = criterion(logits, labels)
            if training:
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
            total_loss += loss.item() * images.size(0)
            correct += (logits.argmax(dim=1) == labels).sum().item()
            seen += images.size(0)
    return total_loss / seen, correct / seen


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("root")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=32)
    args = parser.parse_args()
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")

    weights = EfficientNet_B0_Weights.IMAGENET1K_V1
    train_loader, val_loader, classes = build_loaders(args.root, weights, args.batch_size)

    model = efficientnet_b0(weights=weights)
    in_features = model.classifier[1].in_features
    model.classifier[1] = nn.Linear(in_features, len(classes))
    model.to(device)

    criterion = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = torch.optim.AdamW([
        {"params": model.features.parameters(), "lr": 1e-4},
        {"params": model.classifier.parameters(), "lr": 1e-3},
    ], weight_decay=0.05)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)

    best_acc, best_state = 0.0, None
    for epoch in range(args.epochs):
        train_loss, train_acc = run_epoch(model, train_loader, criterion, device, optimizer)
        val_loss, val_acc = run_epoch(model, val_loader, criterion, device)
        scheduler.step()
        print(f"epoch {epoch + 1}: train {train_loss:.3f}/{train_acc:.3f}  val {val_loss:.3f}/{val_acc:.3f}")
        if val_acc > best_acc:
            best_acc, best_state = val_acc, copy.deepcopy(model.state_dict())

    model.load_state_dict(best_state)
    torch.save({"state_dict": model.state_dict(), "classes": classes}, "efficientnet_b0_finetuned.pt")
    print(f"best val accuracy {best_acc:.3f}")


if __name__ == "__main__":
    main()
