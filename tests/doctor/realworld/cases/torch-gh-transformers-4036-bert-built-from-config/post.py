# Author identification on Reuters C50 (50 authors), texts truncated to 512 tokens.
# During evaluation the model outputs the same label ~99% of the time, whatever the input.
import numpy as np
import torch
from torch.utils.data import TensorDataset, DataLoader, RandomSampler, SequentialSampler
from transformers import BertConfig, BertTokenizer, BertForSequenceClassification, AdamW

MAX_LEN = 512
tokenizer = BertTokenizer.from_pretrained('bert-base-cased')


def encode(texts):
    ids = [tokenizer.encode(t, add_special_tokens=True, max_length=MAX_LEN,
                            pad_to_max_length=True) for t in texts]
    masks = [[int(tok > 0) for tok in seq] for seq in ids]
    return torch.tensor(ids), torch.tensor(masks)


tr_ids, tr_mask = encode(train_texts)
te_ids, te_mask = encode(test_texts)
train_dl = DataLoader(TensorDataset(tr_ids, tr_mask, torch.tensor(train_labels)),
                      sampler=RandomSampler(tr_ids), batch_size=8)
test_dl = DataLoader(TensorDataset(te_ids, te_mask, torch.tensor(test_labels)),
                     sampler=SequentialSampler(te_ids), batch_size=8)

cfg = BertConfig.from_pretrained('bert-base-cased', num_labels=50, hidden_dropout_prob=0.5)
clf = BertForSequenceClassification(cfg)
clf.cuda()
opt = AdamW(clf.parameters(), lr=2e-5, eps=1e-8)

for epoch in range(4):
    clf.train()
    for ids, mask, y in train_dl:
        clf.zero_grad()
        loss, logits = clf(ids.cuda(), attention_mask=mask.cuda(), labels=y.cuda())[:2]
        loss.backward()
        torch.nn.utils.clip_grad_norm_(clf.parameters(), 1.0)
        opt.step()

clf.eval()
preds = []
with torch.no_grad():
    for ids, mask, y in test_dl:
        logits = clf(ids.cuda(), attention_mask=mask.cuda())[0]
        preds.extend(np.argmax(logits.cpu().numpy(), axis=1).tolist())
print(np.bincount(preds, minlength=50))
print('accuracy', np.mean(np.array(preds) == np.array(test_labels)))
