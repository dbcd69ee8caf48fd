# -*- coding: utf-8 -*-
import os
import torch
import torch.nn as nn
from transformers import BertTokenizer, AdamW, BertConfig
from torch.utils.data import DataLoader
from model import BertClassifier
from data import NewsDataset
from tqdm import tqdm
from sklearn import metrics


def main():
    batch_size = 4
    device = 'cuda:0'
    epochs = 10
    learning_rate = 5e-6

    train_dataset = NewsDataset('data/cnews/cnews.train.txt')
    valid_dataset = NewsDataset('data/cnews/cnews.val.txt')
    train_dataloader = DataLoader(train_dataset, batch_size=batch_size, shuffle=True)
    valid_dataloader = DataLoader(valid_dataset, batch_size=batch_size, shuffle=False)

    bert_config = BertConfig.from_pretrained('bert-base-chinese')
    num_labels = len(train_dataset.labels)

    model = BertClassifier(bert_config, num_labels).to(device)
    optimizer = AdamW(model.parameters(), lr=learning_rate)
    criterion = nn.CrossEntropyLoss()

    top_f1 = 0
    for epoch in range(1, epochs + 1):
        loss_sum = 0
        acc_sum = 0
        model.train()
        bar = tqdm(train_dataloader, ncols=100)
        for input_ids, token_type_ids, attention_mask, label_id in bar:
            model.zero_grad()
            output = model(
                input_ids=input_ids.to(device),
                attention_mask=attention_mask.to(device),
                token_type_ids=token_type_ids.to(device),
            )
            loss = criterion(output, label_id.to(device))
            loss_sum += loss.item()
            pred_labels = torch.argmax(output, dim=1)
            acc = torch.sum(pred_labels == label_id.to(device)).item() / len(pred_labels)
            acc_sum += acc
            loss.backward()
            optimizer.step()
            bar.set_postfix(loss=loss.item(), acc=acc)

        print('\tTrain ACC:', acc_sum / len(train_dataloader), '\tLoss:', loss_sum / len(train_dataloader))

        model.eval()
        vbar = tqdm(valid_dataloader, ncols=100)
        preds, golds = [], []
        with torch.no_grad():
            for input_ids, token_type_ids, attention_mask, label_id in vbar:
                output = model(
                    input_ids=input_ids.to(device),
                    attention_mask=attention_mask.to(device),
                    token_type_ids=token_type_ids.to(device),
                )
                preds.extend(torch.argmax(output, dim=1).cpu().tolist())
                golds.extend(label_id.tolist())
        f1 = metrics.f1_score(golds, preds, average='micro')
        print('\tValid F1:', f1)
        if f1 > top_f1:
            top_f1 = f1
            torch.save(model.state_dict(), 'checkpoints/bert_cls.pt')


if __name__ == '__main__':
    main()
