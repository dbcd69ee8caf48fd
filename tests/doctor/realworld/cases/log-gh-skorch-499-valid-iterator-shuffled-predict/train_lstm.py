import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.metrics import accuracy_score
from skorch import NeuralNetClassifier
from skorch.callbacks import EpochScoring
from skorch.dataset import CVSplit

DEVICE = 'cuda' if torch.cuda.is_available() else 'cpu'


class SeqClassifier(nn.Module):
    def __init__(self, n_features, n_hidden, n_layers, n_out):
        super(SeqClassifier, self).__init__()
        self.n_hidden = n_hidden
        self.n_layers = n_layers
        self.rnn = nn.LSTM(input_size=n_features, hidden_size=n_hidden,
                             num_layers=n_layers, batch_first=True, dropout=0)
        self.head = nn.Linear(n_hidden, n_out)

    def forward(self, x):
        h0 = torch.zeros(self.n_layers, x.size(0), self.n_hidden).requires_grad_()
        c0 = torch.zeros(self.n_layers, x.size(0), self.n_hidden).requires_grad_()
        out, (hn, cn) = self.rnn(x, (h0.to(DEVICE), c0.to(DEVICE)))
        out = F.dropout(self.head(out[:, -1, :]), p=0.7)
        return out


train_acc = EpochScoring(scoring='accuracy', on_train=True, name='train_acc', lower_is_better=False)

net = NeuralNetClassifier(
    module=SeqClassifier,
    module__n_features=X_train.shape[2],
    module__n_hidden=64,
    module__n_layers=2,
    module__n_out=2,
    criterion=nn.CrossEntropyLoss,
    optimizer=torch.optim.Adam,
    lr=1e-3,
    max_epochs=10,
    batch_size=64,
    iterator_train__shuffle=True,
    iterator_valid__shuffle=True,
    train_split=CVSplit(5, stratified=True),
    callbacks=[train_acc],
    device=DEVICE,
)

net.fit(X_train, y_train)

y_pred_train = net.predict(X_train)
y_pred_valid = net.predict(X_valid)
print('sklearn train accuracy:', accuracy_score(y_train, y_pred_train))
print('sklearn valid accuracy:', accuracy_score(y_valid, y_pred_valid))
