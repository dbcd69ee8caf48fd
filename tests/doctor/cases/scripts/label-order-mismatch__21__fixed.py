"""Linear probe on frozen ResNet features with skorch, scored with scikit-learn."""

import numpy as np
import torch
import torch.nn as nn
from sklearn.metrics import balanced_accuracy_score
from skorch import NeuralNetClassifier
from skorch.dataset import ValidSplit

feats = np.load("features/resnet50_train.npy").astype(np.float32)
labels = np.load("features/labels_train.npy").astype(np.int64)
test_feats = np.load("features/resnet50_test.npy").astype(np.float32)
test_labels = np.load("features/labels_test.npy").astype(np.int64)

probe = NeuralNetClassifier(
    nn.Linear,
    module__in_features=2048,
    module__out_features=37,
    criterion=nn.CrossEntropyLoss,
    optimizer=torch.optim.AdamW,
    lr=1e-3,
    max_epochs=30,
    batch_size=256,
    iterator_train__shuffle=True,
    train_split=ValidSplit(0.1, stratified=True),
)
probe.fit(feats, labels)
pred = probe.predict(test_feats)
print("test balanced accuracy:", balanced_accuracy_score(test_labels, pred))
