import copy

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms


class Perceptron(nn.Module):
    def __init__(self, n_in, n_hidden, n_out):
        super().__init__()
        self.hidden = nn.Linear(n_in, n_hidden)
        self.act = nn.ReLU()
        self.drop = nn.Dropout(0.3)
        self.out = nn.Linear(n_hidden, n_out)
        self.softmax = nn.Softmax(dim=1)

    def forward(self, x):
        x = x.view(-1, x.shape[1] * x.shape[-2] * x.shape[-1])
        x = self.drop(self.act(self.hidden(x)))
        x = self.out(x)
        return self.softmax(x)


class ClientUpdate:
    def __init__(self, data, idxs, local_epochs=4, local_bs=16, lr=0.02):
        self.loader = DataLoader(Subset(data, list(idxs)), batch_size=local_bs, shuffle=True)
        self.criterion = nn.CrossEntropyLoss()
        self.local_epochs = local_epochs
        self.lr = lr

    def train(self, net):
        net.train()
        opt = torch.optim.SGD(net.parameters(), lr=self.lr, momentum=0.5)
        losses = []
        for _ in range(self.local_epochs):
            for images, labels in self.loader:
                opt.zero_grad()
                probs = net(images)
                loss = self.criterion(probs, labels)
                loss.backward()
                opt.step()
                losses.append(loss.item())
        return net.state_dict(), sum(losses) / len(losses)


def average_weights(states):
    avg = copy.deepcopy(states[0])
    for key in avg:
        for s in states[1:]:
            avg[key] += s[key]
        avg[key] = torch.div(avg[key], len(states))
    return avg


def evaluate(net, data):
    net.eval()
    hits, total_loss = 0, 0.0
    with torch.no_grad():
        for images, labels in DataLoader(data, batch_size=256):
            probs = net(images)
            total_loss += F.cross_entropy(probs, labels, reduction="sum").item()
            hits += (probs.argmax(dim=1) == labels).sum().item()
    return hits / len(data), total_loss / len(data)


if __name__ == "__main__":
    tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
    train_set = datasets.MNIST("./data", train=True, download=True, transform=tf)
    test_set = datasets.MNIST("./data", train=False, download=True, transform=tf)
    shards = torch.randperm(len(train_set)).split(600)
    global_net = Perceptron(784, 64, 10)
    for rnd in range(30):
        picked = torch.randperm(len(shards))[:10]
        results = [ClientUpdate(train_set, shards[i].tolist()).train(copy.deepcopy(global_net)) for i in picked]
        global_net.load_state_dict(average_weights([w for w, _ in results]))
        acc, test_loss = evaluate(global_net, test_set)
        print(f"round {rnd:3d}  test acc {acc:.4f}  test loss {test_loss:.4f}")
