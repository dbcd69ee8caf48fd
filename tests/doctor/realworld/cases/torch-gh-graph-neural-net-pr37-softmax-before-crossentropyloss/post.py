class EmbeddingNode(nn.Module):
    def __init__(self, original_features_num, num_blocks, in_features, out_features, depth_of_mlp):
        super().__init__()
        self.base_model = BaseModel(original_features_num, num_blocks, in_features, out_features, depth_of_mlp)
        self.suffix = Similarity()

    def forward(self, x):
        x = self.base_model(x)
        x = self.suffix(x)
        return F.softmax(x, dim=-1)


def get_criterion(device, loss_reduction):
    return nn.CrossEntropyLoss(reduction=loss_reduction).to(device)


def train_triplet(train_loader, model, criterion, optimizer, logger, device, epoch, eval_score=None):
    model.train()
    for i, (input1, input2) in enumerate(train_loader):
        input1, input2 = input1.to(device), input2.to(device)
        output = model(input1)
        rawscores = output.squeeze(-1)
        raw_scores = torch.matmul(rawscores, torch.transpose(model(input2).squeeze(-1), 1, 2))
        target = torch.arange(raw_scores.size(-1), device=device).expand(raw_scores.size(0), -1)
        loss = criterion(raw_scores, target)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
