import torch
from torch import nn, optim
from tqdm import tqdm

from qangaroo.models.tgcn import TGCN
from qangaroo.utils.data import load_preprocessed, batches


def main(args):
    train, dev = load_preprocessed(args.input)
    model = TGCN(n_layers=args.n_layers, hidden_size=args.hidden_size, dropout=args.dropout).to(args.device)
    criterion = nn.CrossEntropyLoss()
    optimizer = optim.Adam(model.parameters(), lr=args.lr)

    for epoch in range(args.epochs):
        model.train()
        total = 0.0
        for sample in tqdm(batches(train)):
            optimizer.zero_grad()
            pred = model(**sample.inputs)
            loss = criterion(pred.unsqueeze(0), sample.target.unsqueeze(0))
            loss.backward()
            optimizer.step()
            total += loss.item()
        acc = evaluate(model, dev)
        print(f"epoch {epoch}: train loss {total / len(train):.4f} dev acc {acc:.4f}")


def evaluate(model, dev):
    model.eval()
    hits = 0
    with torch.no_grad():
        for sample in batches(dev):
            hits += int(model(**sample.inputs).argmax().item() == sample.target.item())
    return hits / len(dev)
