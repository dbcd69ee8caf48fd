"""Networks of the library: a base class whose defaults are the prediction activation and the
criterion, and a dense network built from a config."""
import torch
import torch.nn as nn


class DenseUnit(nn.Module):
    def __init__(self, in_features, out_features, activation=None, dp=None):
        super(DenseUnit, self).__init__()
        layers = [nn.Linear(in_features, out_features)]
        if activation is not None:
            layers.append(activation)
        if dp:
            layers.append(nn.Dropout(dp))
        self._kernel = nn.Sequential(*layers)

    def forward(self, x):
        return self._kernel(x)


class BaseNetwork(nn.Module):
    def __init__(self, name, in_dim, config, input_networks=None, num_classes=None,
                 activation=nn.ReLU(), pred_activation=nn.Softmax(dim=1),
                 optim_spec={'name': 'Adam', 'lr': 0.001},
                 criter_spec=nn.CrossEntropyLoss()):
        super(BaseNetwork, self).__init__()
        self.name = name
        self.in_dim = in_dim
        self._config = config
        self._input_networks = input_networks
        self._num_classes = num_classes
        self._optim_spec = optim_spec
        self._criter_spec = criter_spec
        self.optim = None
        self.criterion = None
        self._create_network(activation=activation, pred_activation=pred_activation)

    def _init_trainer(self):
        optim_class = getattr(torch.optim, self._optim_spec['name'])
        spec = {k: v for k, v in self._optim_spec.items() if k != 'name'}
        self.optim = optim_class(self.parameters(), **spec)
        self.criterion = self._criter_spec

    def fit(self, train_loader, val_loader, epochs):
        self._init_trainer()
        for epoch in range(epochs):
            self.train()
            for data, targets in train_loader:
                predictions = self(data)
                train_loss = self.criterion(predictions, targets)
                self.optim.zero_grad()
                train_loss.backward()
                self.optim.step()
            self.eval()
            correct, total = 0, 0
            with torch.no_grad():
                for data, targets in val_loader:
                    predictions = self(data)
                    correct += (predictions.argmax(1) == targets).sum().item()
                    total += targets.size(0)
            print('Epoch {}: Train Loss: {:.6f} | Test Acc: {:.4f}'.format(
                epoch, train_loss.item(), correct / total))


class DenseNet(BaseNetwork):
    def _create_network(self, **kwargs):
        dims = [self.in_dim] + self._config['dense_units']
        units = [DenseUnit(d_in, d_out, activation=kwargs['activation'],
                           dp=self._config['dropout'])
                 for d_in, d_out in zip(dims[:-1], dims[1:])]
        self.network = nn.Sequential(*units)
        if self._num_classes:
            self.network_tail = DenseUnit(dims[-1], self._num_classes,
                                          activation=kwargs['pred_activation'])

    def forward(self, x):
        if self._input_networks is not None:
            x = self._input_networks(x)
        x = self.network(x.view(x.size(0), -1))
        if self._num_classes:
            return self.network_tail(x)
        return x
