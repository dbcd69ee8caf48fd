import torch
from torch.utils.data import DataLoader

from main import LitModel, get_train_dataset, hparams

model = LitModel(hparams).load_from_checkpoint('lightning_logs/version_90/checkpoints/epoch=119.ckpt')
model = model.cuda()

train_loader = DataLoader(get_train_dataset(hparams), batch_size=64, shuffle=False, num_workers=4)

features, labels, correct = [], [], 0
for samples, targets in train_loader:
    logits = model(samples.cuda())
    correct += (logits.argmax(1).cpu() == targets).sum().item()
    features.append(logits.detach().cpu())
    labels.append(targets)

print('train accuracy:', correct / len(train_loader.dataset))
features = torch.cat(features)
labels = torch.cat(labels)
torch.save({'features': features, 'labels': labels}, 'train_features.pt')
