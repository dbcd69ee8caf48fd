import torch
import torch.nn as nn
from torchvision import models


class ClipRecognizer(nn.Module):
    def __init__(self, hidden_size, lstm_layers, bidirectional, n_actions):
        super(ClipRecognizer, self).__init__()
        self.frame_encoder = FrameEncoder()
        self.lstm = nn.LSTM(self.frame_encoder.out_features, hidden_size, lstm_layers,
                            batch_first=True, bidirectional=bidirectional)
        width = hidden_size * 2 if bidirectional else hidden_size
        self.fc = nn.Linear(width, n_actions)
        self.to_probs = nn.Softmax(dim=1)

    def forward(self, clips):
        b, t, c, h, w = clips.shape
        feats = self.frame_encoder(clips.view(b * t, c, h, w)).view(b, t, -1)
        seq, _ = self.lstm(feats)
        scores = self.fc(seq[:, -1, :])
        return self.to_probs(scores)


class FrameEncoder(nn.Module):
    def __init__(self):
        super(FrameEncoder, self).__init__()
        backbone = models.vgg16(pretrained=True)
        self.features = backbone.features
        self.pool = nn.AdaptiveAvgPool2d((1, 1))
        self.out_features = 512
        for p in self.features.parameters():
            p.requires_grad = False

    def forward(self, x):
        return torch.flatten(self.pool(self.features(x)), 1)
