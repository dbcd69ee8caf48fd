import glob
import os

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim
from sklearn.metrics import confusion_matrix

from realtimenet import camera
from realtimenet import engine


def set_internal_padding_false(module):
    # steppable convolutions pad internally for streaming; not wanted offline
    if hasattr(module, "internal_padding"):
        module.internal_padding = False


class FeaturesDataset(torch.utils.data.Dataset):
    def __init__(self, files, labels, num_timesteps=None):
        self.files = files
        self.labels = labels
        self.num_timesteps = num_timesteps

    def __len__(self):
        return len(self.files)

    def __getitem__(self, idx):
        feats = np.load(self.files[idx])
        if self.num_timesteps and feats.shape[0] > self.num_timesteps:
            start = np.random.randint(0, feats.shape[0] - self.num_timesteps)
            feats = feats[start:start + self.num_timesteps]
        return [feats, self.labels[idx]]


def generate_data_loader(features_dir, classes, class_to_idx, num_timesteps=5, batch_size=16, shuffle=True):
    files, labels = [], []
    for c in classes:
        found = glob.glob(f'{features_dir}/{c}/*.npy')
        files += found
        labels += [class_to_idx[c]] * len(found)
    dataset = FeaturesDataset(files, labels, num_timesteps=num_timesteps)
    return torch.utils.data.DataLoader(dataset, shuffle=shuffle, batch_size=batch_size)


def extract_features(path_in, net, n_finetune, use_gpu, minimum_frames=45):
    inference = engine.InferenceEngine(net, use_gpu=use_gpu)
    for split in ["train", "valid"]:
        videos_dir = os.path.join(path_in, f"videos_{split}")
        features_dir = os.path.join(path_in, f"features_{split}_{n_finetune}")
        for video_path in glob.glob(os.path.join(videos_dir, "*", "*.mp4")):
            out_path = video_path.replace(videos_dir, features_dir).replace(".mp4", ".npy")
            if os.path.isfile(out_path):
                continue
            source = camera.VideoSource(camera_id=None, size=inference.expected_frame_size, filename=video_path)
            frames = []
            while True:
                got = source.get_image()
                if got is None:
                    break
                frames.append(got[1])
            frames = np.array(frames)
            if frames.shape[0] < minimum_frames:
                frames = np.pad(frames, ((minimum_frames - frames.shape[0], 0), (0, 0), (0, 0), (0, 0)), mode='edge')
            feats = np.array(inference.infer(frames[None].astype(np.float32)))
            os.makedirs(os.path.dirname(out_path), exist_ok=True)
            np.save(out_path, feats)


def training_loops(net, train_loader, valid_loader, use_gpu, num_epochs, lr_schedule, classes, path_out):
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(net.parameters(), lr=1e-4)

    best_state = None
    best_top1 = 0.

    for epoch in range(num_epochs):
        lr = lr_schedule.get(epoch)
        if lr:
            for group in optimizer.param_groups:
                group['lr'] = lr

        net.train()
        train_loss, train_top1, _ = run_epoch(train_loader, net, criterion, optimizer, use_gpu)
        net.eval()
        valid_loss, valid_top1, cm = run_epoch(valid_loader, net, criterion, None, use_gpu)

        print('epoch %d  train loss %.3f top1 %.3f | valid loss %.3f top1 %.3f'
              % (epoch + 1, train_loss, train_top1, valid_loss, valid_top1))

        if valid_top1 > best_top1:
            best_top1 = valid_top1
            best_state = net.state_dict().copy()
            np.save(os.path.join(path_out, 'confusion_matrix.npy'), cm)

    return best_state


def run_epoch(loader, net, criterion, optimizer=None, use_gpu=False):
    total_loss = 0.0
    preds, trues = [], []

    for inputs, targets in loader:
        if use_gpu:
            inputs, targets = inputs.cuda(), targets.cuda()

        if net.training:
            # each clip of the batch goes through the net on its own
            outputs = torch.cat([net(clip) for clip in inputs], dim=0)
        else:
            # validation: batch_size 1, average the per-timestep outputs
            assert loader.batch_size == 1
            outputs = net(inputs[0]).mean(dim=0, keepdim=True)

        loss = criterion(outputs, targets)
        if optimizer is not None:
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()

        trues += list(targets.cpu().numpy())
        preds += list(outputs.argmax(dim=1).cpu().numpy())
        total_loss += loss.item()

    trues, preds = np.array(trues), np.array(preds)
    return total_loss / len(loader), np.mean(trues == preds), confusion_matrix(trues, preds)
