import torch
import torch.nn as nn
from torch.utils.data import DataLoader
from lrcn_model import ClipRecognizer
from clip_dataset import ClipFolder

device = torch.device('cuda:0' if torch.cuda.is_available() else 'cpu')
train_set = ClipFolder('data/ucf101_frames', split='train', frames=5)
val_set = ClipFolder('data/ucf101_frames', split='val', frames=5)
train_loader = DataLoader(train_set, batch_size=16, shuffle=True, num_workers=4)
val_loader = DataLoader(val_set, batch_size=16, shuffle=False, num_workers=4)

model = ClipRecognizer(hidden_size=256, lstm_layers=2, bidirectional=True, n_actions=101).to(device)
criterion = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(filter(lambda p: p.requires_grad, model.parameters()), lr=1e-4)

for epoch in range(40):
    model.train()
    running, correct, seen = 0.0, 0, 0
    for clips, target in train_loader:
        clips, target = clips.to(device), target.to(device)
        optimizer.zero_grad()
        out = model(clips)
        loss = criterion(out, target)
        loss.backward()
        optimizer.step()
        running += loss.item() * clips.size(0)
        correct += (out.argmax(1) == target).sum().item()
        seen += clips.size(0)
    print('epoch %d  train loss %.4f  train acc %.3f' % (epoch + 1, running / seen, correct / seen))
