"""Two deepnum training paths on the same real digits, epochs alternated in one process.

    python -m benchmarks.alternate --compare trainer   # Trainer.fit against the plain loop
    python -m benchmarks.alternate --compare compile   # Trainer(compile=True) against eager
    python -m benchmarks.alternate --compare trainer --interleave step

Each pair of epochs runs both paths back to back (which goes first alternates), so a slow spell
of the machine hits both; the overhead printed is the median of the pairs' ratios. On a shared
VM single pairs still scatter by +-20%: read the median, and count instructions (callgrind) for
differences of a few per cent.

``--interleave step`` alternates every step instead (Trainer against plain loop only): a callback
of the Trainer runs one plain-loop step on a second copy of the model, on the same batch, before
each of the Trainer's, and times it. The loop's epoch is the sum of those steps; the Trainer's is
the rest of ``fit``'s wall-clock time, so it carries everything ``fit`` does per step and per
epoch (the loader, the callbacks, the finite check, the metric, the logs). A slow spell of the
machine lasting milliseconds then hits both alike; the pairs are epochs.
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


def _alternated_epochs(compare: str, model_name: str, x, y, batch: int, perms, pairs: int):
    """{name: [s an epoch]}: the two contenders' whole epochs, in turn."""
    epochs = _epochs(compare, model_name, x, y, batch, perms)
    for epoch in epochs.values():
        epoch(0)  # warm-up: kernels compiled, plans made
    times: dict = {name: [] for name in epochs}
    for e in range(1, pairs + 1):
        for name in (epochs if e % 2 else reversed(list(epochs))):
            start = time.perf_counter()
            epochs[name](e)
            times[name].append(time.perf_counter() - start)
    return times


def _interleaved_epochs(model_name: str, x, y, batch: int, perms, pairs: int, **options):
    """{"loop": [s an epoch], "fit": [...]}: Trainer.fit and a plain loop stepped in turn;
    ``options`` go to the Trainer (check_gradients=False, metrics=() to see what they cost)."""
    import deepnum as dn
    from deepnum.data import DataLoader, TensorDataset
    from deepnum.train import Callback, Trainer

    flatten = model_name == "mlp"
    data = x.reshape(len(x), -1) if flatten else x
    # The loop gathers its batches from a copy of the digits: from the loader's own arrays it
    # would read rows the loader has just brought into the cache, a saving the loop alone never
    # has (measured, one run each: it flattered the loop by ~1% of a batch-32 MLP step).
    step = realdata.deepnum_step(realdata._models(model_name)[0], x.copy(), y.copy(), flatten)
    model = realdata._models(model_name)[0]
    trainer = Trainer(model, optimizer=dn.optim.SGD(model.parameters(), lr=realdata.LR,
                                                    momentum=realdata.MOMENTUM), **options)
    loader = DataLoader(TensorDataset(data, y), batch_size=batch, shuffle=True, seed=0)

    class LoopStep(Callback):
        """Before each Trainer step, the plain loop's step on the same batch, timed (at the
        batch's start, which gets no logs: a callback at its end would make fit build them)."""

        order, seconds = perms[0], 0.0

        def on_train_batch_begin(self, index, logs=None):
            start = time.perf_counter()
            step(self.order[index * batch:(index + 1) * batch])
            self.seconds += time.perf_counter() - start

    loop = LoopStep()
    times: dict = {"loop": [], "fit": []}
    for e in range(pairs + 1):  # epoch 0 warms up: kernels compiled, plans made
        loop.order, loop.seconds = perms[e], 0.0
        start = time.perf_counter()
        trainer.fit(loader, epochs=e + 1, verbose=0, callbacks=[loop])
        if e:
            times["loop"].append(loop.seconds)
            times["fit"].append(time.perf_counter() - start - loop.seconds)
    return times


def main(argv=None) -> list:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", choices=("trainer", "compile"), default="trainer")
    parser.add_argument("--models", default="mlp,lenet")
    parser.add_argument("--batches", default="32,64,128")
    parser.add_argument("--pairs", type=int, default=9)
    parser.add_argument("--samples", type=int, default=10_000)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--interleave", choices=("epoch", "step"), default="epoch",
                        help="alternate the contenders every epoch, or every step (trainer)")
    parser.add_argument("--no-check", action="store_true",
                        help="Trainer(check_gradients=False) (with --interleave step)")
    parser.add_argument("--no-metrics", action="store_true",
                        help="Trainer(metrics=()) (with --interleave step)")
    args = parser.parse_args(argv)
    if args.interleave == "step" and args.compare != "trainer":
        parser.error("--interleave step compares the Trainer with the plain loop only")
    options = {**({"check_gradients": False} if args.no_check else {}),
               **({"metrics": ()} if args.no_metrics else {})}
    if options and args.interleave != "step":
        parser.error("--no-check and --no-metrics go with --interleave step")
    harness.set_threads(args.threads)
    x, y = realdata.load("mnist-test")
    x, y = x[:args.samples], y[:args.samples]
    rows = []
    for model_name in args.models.split(","):
        for batch in map(int, args.batches.split(",")):
            perms = realdata.orders(len(x), args.pairs + 1)
            if args.interleave == "step":
                times = _interleaved_epochs(model_name, x, y, batch, perms, args.pairs,
                                            **options)
            else:
                times = _alternated_epochs(args.compare, model_name, x, y, batch, perms,
                                           args.pairs)
            base, other = list(times)
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
