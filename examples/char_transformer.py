"""A character-level transformer learns to write like the text it reads, then writes.

A small GPT-style model: each character becomes a vector (embedding) plus a learned vector for
its position, goes through pre-norm transformer encoder layers whose self-attention is causal
(a character sees only those before it), and a last linear layer gives the logits of the next
character. Trained with cross-entropy on random windows of examples/data/declaration.txt (the
US Declaration of Independence, public domain; its last 10% held out), AdamW with warm-up and a
cosine decay. Reports the held-out loss in bits per character against the unigram baseline,
saves the loss curves and prints samples.

    python examples/char_transformer.py --out runs/char_transformer
    python examples/char_transformer.py --fast --out /tmp/char_fast
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np

if __package__ in (None, ""):
    sys.path.insert(0, __import__("os").path.dirname(__file__))
import _common  # noqa: E402

import deepnum as dn  # noqa: E402
import deepnum.nn as nn  # noqa: E402
import deepnum.nn.functional as F  # noqa: E402
from deepnum import serialization  # noqa: E402

TEXT = Path(__file__).resolve().parent / "data" / "declaration.txt"


class CharTransformer(nn.Module):
    """Characters (N, T) -> next-character logits (N, T, vocab)."""

    def __init__(self, vocab: int, block: int, d_model: int, heads: int, layers: int,
                 dropout: float):
        super().__init__()
        self.token = nn.Embedding(vocab, d_model)
        self.position = nn.Embedding(block, d_model)
        layer = nn.TransformerEncoderLayer(d_model, heads, 4 * d_model, dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.norm = nn.LayerNorm(d_model)
        self.head = nn.Linear(d_model, vocab)

    def forward(self, tokens):
        length = tokens.shape[1]
        x = self.token(tokens) + self.position(dn.arange(length))
        causal = nn.Transformer.generate_square_subsequent_mask(length)
        x = self.encoder(x, mask=causal, is_causal=True)
        return self.head(self.norm(x))


def sample(model, stoi, itos, prompt: str, length: int, block: int, temperature: float,
           rng) -> str:
    """Draw ``length`` characters after ``prompt``, one at a time (softmax(logits / T))."""
    model.eval()
    tokens = [stoi[c] for c in prompt if c in stoi]
    with dn.no_grad():
        for _ in range(length):
            context = dn.tensor(np.array([tokens[-block:]], dtype=np.int64))
            logits = model(context).numpy()[0, -1] / temperature
            p = np.exp(logits - logits.max())
            tokens.append(int(rng.choice(len(p), p=p / p.sum())))
    model.train()
    return "".join(itos[t] for t in tokens)


def main(argv=None) -> dict:
    p = _common.parser(__doc__.splitlines()[0], "runs/char_transformer")
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--block", type=int, default=64, help="characters of context")
    p.add_argument("--d-model", type=int, default=96)
    p.add_argument("--heads", type=int, default=4)
    p.add_argument("--layers", type=int, default=3)
    p.add_argument("--dropout", type=float, default=0.1)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--text", default=str(TEXT), help="a UTF-8 text file to learn")
    args = p.parse_args(argv)
    if args.fast:
        args.steps, args.d_model, args.layers, args.block = 60, 32, 1, 32
    out = _common.setup(args)
    timer = _common.Timer()
    rng = np.random.default_rng(args.seed)

    text = Path(args.text).read_text(encoding="utf-8")
    itos = sorted(set(text))
    stoi = {c: i for i, c in enumerate(itos)}
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    cut = int(0.9 * len(data))
    train, held_out = data[:cut], data[cut:]
    counts = np.bincount(train, minlength=len(itos)) + 1
    unigram_bits = float(-np.sum(np.log2(counts[held_out] / counts.sum())) / len(held_out))

    model = CharTransformer(len(itos), args.block, args.d_model, args.heads, args.layers,
                            args.dropout)
    optimizer = dn.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = max(1, args.steps // 20)

    def learning_rate(step: int) -> float:
        if step < warmup:
            return args.lr * (step + 1) / warmup
        return args.lr * 0.5 * (1 + math.cos(math.pi * (step - warmup) / (args.steps - warmup)))

    def windows(source, count):
        starts = rng.integers(0, len(source) - args.block - 1, count)
        x = np.stack([source[s:s + args.block] for s in starts])
        y = np.stack([source[s + 1:s + args.block + 1] for s in starts])
        return dn.tensor(x), dn.tensor(y)

    def held_out_bits() -> float:
        """Mean held-out cross-entropy in bits per character, over every full window."""
        model.eval()
        total, n = 0.0, 0
        with dn.no_grad():
            for s in range(0, len(held_out) - args.block - 1, args.block):
                x = dn.tensor(held_out[None, s:s + args.block])
                y = held_out[s + 1:s + args.block + 1]
                total += F.cross_entropy(model(x)[0], y, reduction="sum").item()
                n += len(y)
        model.train()
        return total / n / math.log(2)

    history = {"step": [], "train_bits": [], "held_out_bits": []}
    interval = max(1, args.steps // (4 if args.fast else 20))  # held-out evaluations
    recent = []
    for step in range(args.steps):
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step)
        x, y = windows(train, args.batch_size)
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, len(itos)), y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        recent.append(loss.item() / math.log(2))
        if (step + 1) % interval == 0 or step == 0:
            history["step"].append(step + 1)
            history["train_bits"].append(float(np.mean(recent)))
            history["held_out_bits"].append(held_out_bits())
            recent = []
            print(f"step {step + 1:5d}  train {history['train_bits'][-1]:.3f} bits/char  "
                  f"held out {history['held_out_bits'][-1]:.3f}  ({timer.seconds}s)", flush=True)

    samples = [sample(model, stoi, itos, prompt, 200 if not args.fast else 40, args.block, 0.8,
                      rng) for prompt in ("We hold these", "He has ")]
    for s in samples:
        print("---\n" + s)

    plt = _common.pyplot()
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.plot(history["step"], history["train_bits"], marker=".", label="train (window mean)")
    ax.plot(history["step"], history["held_out_bits"], marker=".", label="held out")
    ax.axhline(unigram_bits, color="gray", ls="--", label="unigram baseline")
    ax.set(xlabel="step", ylabel="bits per character", title="character transformer")
    ax.legend()
    fig.tight_layout()
    fig.savefig(out / "curves.png", dpi=100)
    plt.close(fig)
    serialization.save_state_dict(model.state_dict(), out / "model.safetensors",
                                  {"example": "char_transformer", "vocabulary": "".join(itos)})
    results = {"steps": args.steps, "parameters": int(sum(p.numel() for p in model.parameters())),
               "characters": len(text), "vocabulary": len(itos),
               "unigram_bits": unigram_bits, "first_held_out_bits": history["held_out_bits"][0],
               "final_held_out_bits": history["held_out_bits"][-1],
               "best_held_out_bits": min(history["held_out_bits"]), "history": history,
               "samples": samples, "seconds": timer.seconds, "cpu_seconds": timer.cpu_seconds}
    print(f"held out: {results['final_held_out_bits']:.3f} bits/char (unigram "
          f"{unigram_bits:.3f}); {results['parameters']:,} parameters; {timer.seconds}s "
          f"({timer.cpu_seconds} CPU s)")
    return _common.write_results(out, results)


if __name__ == "__main__":
    main()
