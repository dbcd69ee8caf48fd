import torch
from torch import nn


class TurnEncoder(nn.Module):
    """GRU over token ids; the embedding can start from pretrained word vectors."""

    def __init__(self, vocab_size, hidden_size, n_layers=1, bidirectional=False,
                 pretrained_vectors=None, tune_vectors=True):
        super(TurnEncoder, self).__init__()
        self.hidden_size = hidden_size
        self.bidirectional = bidirectional
        self.embed = nn.Embedding(vocab_size, hidden_size)
        if pretrained_vectors is not None:
            self.embed.weight = nn.Parameter(pretrained_vectors)
        self.embed.weight.requires_grad = tune_vectors
        self.gru = nn.GRU(hidden_size, hidden_size, n_layers, batch_first=True,
                          bidirectional=bidirectional)

    def forward(self, tokens):
        states, last = self.gru(self.embed(tokens))
        return states, last


class ResponseRanker(nn.Module):
    """Scores each candidate response r against the context c as c^T M r."""

    def __init__(self, ctx_encoder, resp_encoder):
        super(ResponseRanker, self).__init__()
        self.ctx_encoder = ctx_encoder
        self.resp_encoder = resp_encoder
        dc = ctx_encoder.hidden_size * (2 if ctx_encoder.bidirectional else 1)
        dr = resp_encoder.hidden_size * (2 if resp_encoder.bidirectional else 1)
        self.M = nn.Parameter(torch.randn(dc, dr) * 0.01)
        self.to_probs = nn.Softmax(dim=-1)

    def forward(self, context, candidates):
        batch, n_cand, seq_len = candidates.size()
        c, _ = self.ctx_encoder(context)
        r, _ = self.resp_encoder(candidates.reshape(-1, seq_len))
        c_last = c[:, -1, :].unsqueeze(1)                                  # B x 1 x dc
        r_last = r.reshape(batch, n_cand, seq_len, -1)[:, :, -1, :]        # B x K x dr
        scores = torch.matmul(torch.matmul(c_last, self.M), r_last.transpose(1, 2)).squeeze(1)
        return self.to_probs(scores)                                       # B x K probabilities
