"""A word-level language model written the way pytorch/examples' ``word_language_model`` writes
it (a Transformer subclass with a sinusoidal PositionalEncoding buffer, and an RNN model with
tied weights; ``main.py``'s batchify / get_batch / clip / manual SGD loop), with only the
imports renamed to deepnum: it runs and learns. (The code here is ours, written against the
same API; the original was also run unchanged apart from its imports.)"""

import math

import pytest

import deepnum as torch
import deepnum.nn as nn
import deepnum.nn.functional as F

CORPUS = ("the cat sat on the mat . the dog sat on the log . a cat and a dog sat on a mat . "
          "the mat was on the log and the cat was on the mat . ") * 12


class PositionalEncoding(nn.Module):
    def __init__(self, d_model, dropout=0.1, max_len=500):
        super().__init__()
        self.dropout = nn.Dropout(p=dropout)
        table = torch.zeros(max_len, d_model)
        where = torch.arange(0, max_len, dtype=torch.float).unsqueeze(1)
        rates = torch.exp(torch.arange(0, d_model, 2).float() * (-math.log(10000.0) / d_model))
        table[:, 0::2] = torch.sin(where * rates)
        table[:, 1::2] = torch.cos(where * rates)
        self.register_buffer("pe", table.unsqueeze(0).transpose(0, 1))

    def forward(self, x):
        return self.dropout(x + self.pe[:x.size(0), :])


class TransformerLM(nn.Transformer):
    def __init__(self, ntoken, ninp, nhead, nhid, nlayers, dropout=0.2):
        super().__init__(d_model=ninp, nhead=nhead, dim_feedforward=nhid,
                         num_encoder_layers=nlayers, num_decoder_layers=1)
        self.src_mask, self.ninp = None, ninp
        self.pos_encoder = PositionalEncoding(ninp, dropout)
        self.input_emb = nn.Embedding(ntoken, ninp)
        self.decoder = nn.Linear(ninp, ntoken)
        nn.init.uniform_(self.input_emb.weight, -0.1, 0.1)
        nn.init.zeros_(self.decoder.bias)
        nn.init.uniform_(self.decoder.weight, -0.1, 0.1)

    @staticmethod
    def causal_mask(size):
        mask = (torch.triu(torch.ones(size, size)) == 1).transpose(0, 1)
        return mask.float().masked_fill(mask == 0, float("-inf")).masked_fill(mask == 1, 0.0)

    def forward(self, src):
        if self.src_mask is None or self.src_mask.size(0) != len(src):
            self.src_mask = self.causal_mask(len(src)).to(src.device)
        x = self.pos_encoder(self.input_emb(src) * math.sqrt(self.ninp))
        return F.log_softmax(self.decoder(self.encoder(x, mask=self.src_mask)), dim=-1)


class RecurrentLM(nn.Module):
    def __init__(self, kind, ntoken, size, nlayers, dropout=0.2):
        super().__init__()
        self.drop, self.encoder = nn.Dropout(dropout), nn.Embedding(ntoken, size)
        self.rnn = getattr(nn, kind)(size, size, nlayers, dropout=dropout)
        self.decoder = nn.Linear(size, ntoken)
        self.decoder.weight = self.encoder.weight  # tied input and output embeddings
        self.kind, self.size, self.nlayers, self.ntoken = kind, size, nlayers, ntoken

    def forward(self, tokens, hidden):
        output, hidden = self.rnn(self.drop(self.encoder(tokens)), hidden)
        return F.log_softmax(self.decoder(self.drop(output)).view(-1, self.ntoken), dim=1), hidden

    def init_hidden(self, batch):
        weight = next(self.parameters())
        zeros = weight.new_zeros(self.nlayers, batch, self.size)
        return (zeros, weight.new_zeros(self.nlayers, batch, self.size)) \
            if self.kind == "LSTM" else zeros


def _data(batch):
    words = CORPUS.split()
    vocabulary = {w: i for i, w in enumerate(sorted(set(words)))}
    ids = torch.tensor([vocabulary[w] for w in words]).type(torch.int64)
    rows = ids.size(0) // batch
    return ids.narrow(0, 0, rows * batch).view(batch, -1).t().contiguous(), len(vocabulary)


def _detach(hidden):
    return hidden.detach() if isinstance(hidden, torch.Tensor) else tuple(map(_detach, hidden))


@pytest.mark.parametrize("kind", ["Transformer", "LSTM", "GRU"])
def test_word_language_model_trains(kind):
    torch.manual_seed(1111)
    data, ntokens = _data(batch=8)
    model = TransformerLM(ntokens, 32, 2, 64, 2) if kind == "Transformer" \
        else RecurrentLM(kind, ntokens, 32, 2)
    criterion, bptt, lr = nn.NLLLoss(), 12, 0.5 if kind == "Transformer" else 5.0
    epoch_losses = []
    for _ in range(4):
        model.train()
        hidden = None if kind == "Transformer" else model.init_hidden(8)
        losses = []
        for i in range(0, data.size(0) - 1, bptt):
            seq = min(bptt, len(data) - 1 - i)
            source, targets = data[i:i + seq], data[i + 1:i + 1 + seq].view(-1)
            model.zero_grad()
            if hidden is None:
                output = model(source).view(-1, ntokens)
            else:
                output, hidden = model(source, _detach(hidden))
            loss = criterion(output, targets)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.25)
            for p in model.parameters():
                p.data.add_(p.grad, alpha=-lr)
            losses.append(loss.item())
        epoch_losses.append(sum(losses) / len(losses))
    assert epoch_losses[-1] < 0.8 * epoch_losses[0], epoch_losses
    model.eval()
    with torch.no_grad():
        out = model(data[:5]) if hidden is None else model(data[:5], model.init_hidden(8))[0]
    assert math.isfinite(out.sum().item())
