"""Two deepnum training paths on the same real digits, epochs alternated in one process.

    python -m benchmarks.alternate --compare trainer   # Trainer.fit against the plain loop
    python -m benchmarks.alternate --compare compile   # Trainer(compile=True) against eager

Each pair of epochs runs both paths back to back (which goes first alternates), so a slow spell
of the machine hits both; the overhead printed is the median of the pairs' ratios. On a shared
VM single pairs still scatter by +-20%: read the median, and count instructions (callgrind) for
differences of a few per cent.
"""

from __future__ import annotations

import argparse
import statistics
import time

from benchmarks import harness, realdata


def _epochs(compare: str, model_name: str, x, y, batch: int, perms):
    """{name: epoch(e)} for the two contenders."""
    import deepnum as dn
    from deepnum.data import DataLoader, TensorDataset
    from deepnum.train import Trainer

    flatten = model_name == "mlp"
    if compare == "trainer":
        return {name: make(realdata._models(model_name)[0], x, y, batch, perms, flatten)
                for name, make in (("loop", realdata.deepnum_loop),
                                   ("fit", realdata.deepnum_trainer))}
    epochs = {}
    for name, compiled in (("eager", False), ("compile", True)):
        dn.manual_seed(0)
        model = realdata._models(model_name)[0]
        trainer = Trainer(model, optimizer=dn.optim.SGD(model.parameters(), lr=realdata.LR,
                                                        momentum=realdata.MOMENTUM),
                          compile=compiled)
        loader = DataLoader(TensorDataset(x.reshape(len(x), -1) if flatten else x, y),
                            batch_size=batch, shuffle=True, seed=0)
        epochs[name] = (lambda e, t=trainer, d=loader: t.fit(d, epochs=e + 1, verbose=0))
    return epochs


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", choices=("trainer", "compile"), default="trainer")
    parser.add_argument("--models", default="mlp,lenet")
    parser.add_argument("--batches", default="32,64,128")
    parser.add_argument("--pairs", type=int, default=9)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    harness.set_threads(args.threads)
    x, y = realdata.load("mnist-test")
    x, y = x[:args.samples], y[:args.samples]
    rows = []
    for model_name in args.models.split(","):
        for batch in map(int, args.batches.split(",")):
            epochs = _epochs(args.compare, model_name, x, y, batch,
                             realdata.orders(len(x), args.pairs + 1))
            base, other = list(epochs)
            for epoch in epochs.values():
                epoch(0)  # warm-up: kernels compiled, plans made
            times = {name: [] for name in epochs}
            for e in range(1, args.pairs + 1):
                for name in (epochs if e % 2 else reversed(list(epochs))):
                    start = time.perf_counter()
                    epochs[name](e)
                    times[name].append(time.perf_counter() - start)
            ratios = [b / a for a, b in zip(times[base], times[other])]
            row = dict(model=model_name, batch=batch, **{
                f"{n}_s": round(statistics.median(t), 4) for n, t in times.items()},
                overhead=round(statistics.median(ratios) - 1, 4),
                low=round(min(ratios) - 1, 4), high=round(max(ratios) - 1, 4))
            rows.append(row)
            print(f"{model_name} batch {batch}: {base} {row[base + '_s']:.3f} s, {other} "
                  f"{row[other + '_s']:.3f} s an epoch (medians); {other} over {base} "
                  f"{row['overhead']:+.1%} (pairs {row['low']:+.1%} .. {row['high']:+.1%})",
                  flush=True)
    return rows


if __name__ == "__main__":
    main()
