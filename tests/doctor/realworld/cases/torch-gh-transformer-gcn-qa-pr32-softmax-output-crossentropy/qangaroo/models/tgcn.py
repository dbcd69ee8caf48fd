import torch
from torch import nn
from torch_geometric.nn import RGCNConv


class TGCN(nn.Module):
    """Relational GCN over candidate mentions encoded by a pretrained transformer."""

    def __init__(self, n_rels=3, n_layers=3, hidden_size=512, dropout=0.2):
        super(TGCN, self).__init__()
        self.n_layers = n_layers
        self.dropout = nn.Dropout(dropout)
        self.rgcn = RGCNConv(hidden_size, hidden_size, n_rels, num_bases=n_rels)
        self.fc_1 = nn.Linear(2 * hidden_size, 256)
        self.fc_2 = nn.Linear(256, 128)
        self.fc_3 = nn.Linear(128, 1)

    def forward(self, x, edge_index, edge_type, query, candidate_idx, candidate_mask):
        for _ in range(self.n_layers):
            x = self.dropout(torch.tanh(self.rgcn(x, edge_index, edge_type)))
        x = torch.cat([x, query.expand_as(x)], dim=-1)
        x = torch.relu(self.fc_1(x))
        x = torch.relu(self.fc_2(x))
        x = self.fc_3(x).squeeze(-1)
        scores = torch.zeros_like(candidate_mask, dtype=x.dtype).index_add_(0, candidate_idx, x)
        scores = scores.masked_fill(candidate_mask == 0, -1e9)
        return torch.softmax(scores, dim=-1)
