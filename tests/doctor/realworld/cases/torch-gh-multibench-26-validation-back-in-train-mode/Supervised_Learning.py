"""Training structure for supervised multimodal learning."""
import time
import torch
from torch import nn
from utils.AUPRC import AUPRC
from eval_scripts.performance import f1_score, accuracy
from eval_scripts.complexity import all_in_one_train, all_in_one_test

softmax = nn.Softmax()


class MMDL(nn.Module):
    def __init__(self, encoders, fusion, head, has_padding=False):
        super(MMDL, self).__init__()
        self.encoders = nn.ModuleList(encoders)
        self.fuse = fusion
        self.head = head
        self.has_padding = has_padding

    def forward(self, inputs):
        outs = [self.encoders[i](inputs[i]) for i in range(len(inputs))]
        out = self.fuse(outs)
        return self.head(out)


def train(encoders, fusion, head, train_dataloader, valid_dataloader, total_epochs,
          is_packed=False, early_stop=False, task="classification", optimtype=torch.optim.RMSprop,
          lr=0.001, weight_decay=0.0, objective=nn.CrossEntropyLoss(), save='best.pt',
          validtime=False, clip_val=8):
    model = MMDL(encoders, fusion, head, has_padding=is_packed).cuda()

    def _trainprocess():
        params = [p for p in model.parameters() if p.requires_grad]
        op = optimtype(params, lr=lr, weight_decay=weight_decay)
        bestacc = 0
        patience = 0

        for epoch in range(total_epochs):
            totalloss = 0.0
            totals = 0
            model.train()
            for j in train_dataloader:
                op.zero_grad()
                out = model([i.float().cuda() for i in j[:-1]])
                loss = objective(out, j[-1].long().cuda())
                totalloss += loss * len(j[-1])
                totals += len(j[-1])
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip_val)
                op.step()
            print("Epoch " + str(epoch) + " train loss: " + str(totalloss / totals))

            validstarttime = time.time()
            model.eval()
            with torch.no_grad():
                totalloss = 0.0
                pred = []
                true = []
                for j in valid_dataloader:
                    model.train()
                    out = model([i.float().cuda() for i in j[:-1]])
                    loss = objective(out, j[-1].long().cuda())
                    totalloss += loss * len(j[-1])
                    pred.append(torch.argmax(out, 1))
                    true.append(j[-1])
            if pred:
                pred = torch.cat(pred, 0)
            true = torch.cat(true, 0)
            totals = true.shape[0]
            valloss = totalloss / totals
            acc = accuracy(true, pred)
            print("Epoch " + str(epoch) + " valid loss: " + str(valloss) + " acc: " + str(acc))
            if acc > bestacc:
                patience = 0
                bestacc = acc
                print("Saving Best")
                torch.save(model, save)
            else:
                patience += 1
            if early_stop and patience > 7:
                break

    _trainprocess()
