import torch
from torch.nn import CrossEntropyLoss


class RankerTrainer(object):

    def __init__(self, loss_fn=CrossEntropyLoss(), batch_size=64, lr=1e-3):
        self.loss_fn = loss_fn
        self.batch_size = batch_size
        self.lr = lr

    def train_epoch(self, model, batches, optimizer):
        model.train()
        total = 0.0
        for context, candidates, target in batches:     # target: index of the true response
            optimizer.zero_grad()
            out = model(context.cuda(), candidates.cuda())
            loss = self.loss_fn(out, target.cuda())
            loss.backward()
            optimizer.step()
            total += loss.item()
        return total / len(batches)
