"""Deeper models at full size (issue 19): a training step of AlexNet, VGG-11, ResNet-18 and
ResNet-20, and ResNet-50 inference, deepnum against its PyTorch twin with the same weights.

    python -m benchmarks.models                                  # every case (~2 min, 1 thread)
    python -m benchmarks.models --quick                          # 1 step, 1 round, no warm-up
    python -m benchmarks.models --cases resnet20,resnet50-infer --repeats 7
    python -m benchmarks.models --json out.json --no-memory
    python -m benchmarks.models --cases resnet20 --profile 10    # cProfile of deepnum's steps

A training step is zero_grad, forward, cross-entropy loss, backward and an SGD step (lr 0.01,
momentum 0.9), in training mode (batch norm on batch statistics, dropout on); inference is one
forward in eval mode under ``no_grad()`` (both libraries). Models come from deepnum's registry
(``deepnum.models.build``); their PyTorch twins are tests/models/twins.py's (AlexNet's is built
here, with deepnum's layout), loaded with deepnum's initial weights. Both see the same float32
batches (one fixed batch per step of a round) and run interleaved round by round in one process
with one thread each (benchmarks.harness), so load from other programs hits both alike.

Memory: each contender in a fresh process of its own (``--probe CASE CONTENDER``): the model,
optimizer and batches are built, then the peak resident set size during the first step minus the
RSS before it (Linux VmHWM reset through /proc/self/clear_refs). That step creates the gradients
and momentum buffers, so the figure is activations + workspaces + gradients + optimizer state,
for both libraries alike. For deepnum, tracemalloc's peak over a later step (NumPy's buffers;
gradients then already exist, so it counts what the step allocates on top) is shown as well.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys

if __package__ in (None, ""):  # run as a script: python benchmarks/models.py
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

from benchmarks import harness  # noqa: E402

LR, MOMENTUM = 0.01, 0.9
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# name -> registry model, image size, batch, train (else inference), classes
CASES = {
    "alexnet": dict(model="alexnet", size=224, batch=8, train=True, classes=10),
    "vgg11": dict(model="vgg11", size=64, batch=16, train=True, classes=10),
    "resnet18": dict(model="resnet18", size=64, batch=16, train=True, classes=10),
    "resnet20": dict(model="resnet20", size=32, batch=64, train=True, classes=10),
    "resnet50-infer": dict(model="resnet50", size=224, batch=1, train=False, classes=1000),
}
TARGET = 1.0  # deepnum / PyTorch step time, every case (issue 19)


# ----------------------------------------------------------------------------- the twins
def _torch_alexnet(num_classes: int):
    """deepnum's AlexNet (single tower, 96@11x11/4 without padding) in plain torch.nn."""
    from torch import nn

    model = nn.Module()
    model.features = nn.Sequential(
        nn.Conv2d(3, 96, 11, 4), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 384, 3, padding=1), nn.ReLU(),
        nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2))
    model.avgpool = nn.AdaptiveAvgPool2d((6, 6))
    model.classifier = nn.Sequential(
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(9216, 4096), nn.ReLU(),
        nn.Dropout(0.5), nn.Linear(4096, 4096), nn.ReLU(), nn.Linear(4096, num_classes))
    model.forward = lambda x: model.classifier(model.avgpool(model.features(x)))
    return model


def torch_twin(case: dict):
    """The PyTorch twin of a case's model (tests/models/twins.py, AlexNet's above)."""
    from tests.models import twins

    from deepnum.models.vgg import CONFIGS

    name, classes = case["model"], case["classes"]
    if name == "alexnet":
        return _torch_alexnet(classes)
    if name == "vgg11":
        return twins.torch_vgg(CONFIGS["A"], False, num_classes=classes)
    if name == "resnet18":
        return twins.TorchResNet(twins.TorchBasicBlock, (2, 2, 2, 2), num_classes=classes)
    if name == "resnet50":
        return twins.TorchResNet(twins.TorchBottleneck, (3, 4, 6, 3), num_classes=classes)
    if name == "resnet20":
        return twins.TorchCifarResNet(20, num_classes=classes)
    raise ValueError(f"no twin for {name!r}")


def models(case: dict, seed: int = 0):
    """deepnum's model from the registry and its twin with the same weights, both float32."""
    import torch

    import deepnum as dn
    from deepnum.models import build

    dn.manual_seed(seed)
    ours = build(case["model"], num_classes=case["classes"],
                 input_shape=(3, case["size"], case["size"]))
    theirs = torch_twin(case).float()
    state = {k: torch.from_numpy(np.array(getattr(v, "array", v)))
             for k, v in ours.state_dict().items()}
    theirs.load_state_dict(state)
    return ours, theirs


def batches(case: dict, steps: int, seed: int = 0):
    """``steps`` float32 image batches and int64 labels, drawn once for both contenders."""
    rng = np.random.default_rng(seed)
    shape = (steps, case["batch"], 3, case["size"], case["size"])
    return (rng.standard_normal(shape, dtype=np.float32),
            rng.integers(0, case["classes"], (steps, case["batch"])))


# ----------------------------------------------------------------------------- the workloads
def workload(lib, case: dict, model, x, y):
    """A callable that runs len(x) training steps (or forwards) of ``model`` with ``lib``
    (deepnum or torch: the same names, which is the point of deepnum)."""
    inputs = [lib.from_numpy(a) for a in x]
    labels_of = [lib.from_numpy(t) for t in y]
    if not case["train"]:
        model.eval()

        def infer() -> None:
            with lib.no_grad():
                for a in inputs:
                    model(a)

        return infer
    model.train()
    opt = lib.optim.SGD(model.parameters(), lr=LR, momentum=MOMENTUM)
    loss_fn = lib.nn.CrossEntropyLoss()

    def train() -> None:
        for a, labels in zip(inputs, labels_of):
            opt.zero_grad()
            loss_fn(model(a), labels).backward()
            opt.step()

    return train


def deepnum_workload(case: dict, model, x, y):
    import deepnum

    return workload(deepnum, case, model, x, y)


def torch_workload(case: dict, model, x, y):
    import torch

    return workload(torch, case, model, x, y)


def workloads(name: str, steps: int) -> dict:
    case = CASES[name]
    ours, theirs = models(case)
    x, y = batches(case, steps)
    return {"deepnum": deepnum_workload(case, ours, x, y),
            "pytorch": torch_workload(case, theirs, x, y)}


# ----------------------------------------------------------------------------- memory
def probe(name: str, contender: str, threads: int = 1) -> dict:
    """In this (fresh) process: build the contender's workload, then the peak RSS of its first
    step above the RSS before it; for deepnum also tracemalloc's peak over a second step."""
    harness.set_threads(threads)
    case = CASES[name]
    ours, theirs = models(case)
    x, y = batches(case, 1)
    make = deepnum_workload if contender == "deepnum" else torch_workload
    model = ours if contender == "deepnum" else theirs
    del ours, theirs  # only the contender's model stays alive
    run = make(case, model, x, y)
    out = {"rss_first_step_mib": harness.peak_memory(run, use_tracemalloc=False)
           ["rss_peak_delta_mib"]}
    if contender == "deepnum":
        out["tracemalloc_step_mib"] = harness.peak_memory(run, True)["tracemalloc_peak_mib"]
    return out


def measure_memory(name: str, contender: str, threads: int) -> dict:
    """Run :func:`probe` in a child process (so neither library's earlier allocations count)."""
    # the parent's path first: a run against another checkout's src/ probes that checkout
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        p for p in (os.environ.get("PYTHONPATH"), os.path.join(ROOT, "src"), ROOT) if p))
    done = subprocess.run([sys.executable, "-m", "benchmarks.models", "--probe", name, contender,
                           "--threads", str(threads)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=900)
    if done.returncode:
        return {"memory_error": done.stderr.strip().splitlines()[-1:]}
    return json.loads(done.stdout.strip().splitlines()[-1])


# ----------------------------------------------------------------------------- the run
def run_case(name: str, args) -> list:
    case = CASES[name]
    contenders = workloads(name, args.steps)
    timings = harness.interleave(contenders, args.repeats, warmup=args.warmup)
    rows = []
    torch_s = timings["pytorch"]["median_s"] / args.steps
    for contender, t in timings.items():
        row = {"case": name, "model": case["model"], "size": case["size"],
               "batch": case["batch"], "train": case["train"], "contender": contender,
               "steps_per_round": args.steps, "repeats": args.repeats,
               "median_step_s": t["median_s"] / args.steps, "min_step_s": t["min_s"] / args.steps,
               "cpu_step_s": t["cpu_median_s"] / args.steps,
               "samples_s": [s / args.steps for s in t["samples_s"]],
               "load_avg_1min": t["load_avg_1min"]}
        if contender == "deepnum":
            row["ratio_vs_pytorch"] = round(row["median_step_s"] / torch_s, 3)
            row["ratio_min_vs_pytorch"] = round(
                row["min_step_s"] / (timings["pytorch"]["min_s"] / args.steps), 3)
            row["target_met"] = row["ratio_vs_pytorch"] <= TARGET
        rows.append(row)
    del contenders
    if not args.no_memory:
        for row in rows:
            row.update(measure_memory(name, row["contender"], args.threads))
    for row in rows:
        print("  " + format_row(row), flush=True)
    return rows


def _mib(row: dict, key: str) -> str:
    return f"{row[key]:.1f} MiB" if key in row else "-"


def format_row(row: dict) -> str:
    what = "train step" if row["train"] else "inference"
    ratio = row.get("ratio_vs_pytorch")
    verdict = "" if ratio is None else ("met" if row["target_met"] else "MISSED")
    return " | ".join([
        row["case"], f"{row['size']}x{row['size']}", str(row["batch"]), what, row["contender"],
        f"{row['median_step_s'] * 1e3:.1f} ms", f"{row['min_step_s'] * 1e3:.1f} ms",
        f"{row['cpu_step_s'] * 1e3:.1f} ms", "" if ratio is None else f"{ratio:.2f}",
        "" if ratio is None else f"{row['ratio_min_vs_pytorch']:.2f}",
        "" if ratio is None else f"<= {TARGET} {verdict}",
        _mib(row, "rss_first_step_mib"), _mib(row, "tracemalloc_step_mib"),
        f"{row['load_avg_1min']:.2f}"])


HEADER = ("case | size | batch | what | contender | median | min | CPU | ratio/torch | "
          "ratio of mins | target | RSS peak+ first step | tracemalloc step | load\n"
          + " | ".join(["---"] * 14))


def profile(name: str, steps: int, threads: int) -> str:
    """cProfile of ``steps`` deepnum steps of a case after one warm-up step: the functions by
    own time, and who calls the blocked products (forward, input or weight gradient)."""
    import cProfile
    import io
    import pstats
    import time

    harness.set_threads(threads)
    case = CASES[name]
    ours, _ = models(case)
    x, y = batches(case, steps)
    run = deepnum_workload(case, ours, x, y)
    run()
    start = time.perf_counter()
    run()
    seconds = (time.perf_counter() - start) / steps
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    out = io.StringIO()
    out.write(f"{name}: {seconds * 1e3:.1f} ms per step unprofiled, load "
              f"{harness.load_average()}\n")
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("tottime").print_stats(25)
    stats.print_callers("_matmul_blocks|_matmul_nt_blocks|im2col_block")
    return out.getvalue()


def parse_args(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmarks.models", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", default=",".join(CASES), help=f"comma-separated, of {list(CASES)}")
    p.add_argument("--quick", action="store_true", help="1 step, no warm-up, 1 round each")
    p.add_argument("--steps", type=int, default=None, help="steps per timed round (default 1)")
    p.add_argument("--repeats", type=int, default=None, help="timed rounds (default 7)")
    p.add_argument("--warmup", type=int, default=None, help="untimed rounds first (default 1)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--no-memory", action="store_true", help="skip the memory probes")
    p.add_argument("--json", default=None, help="where to write the results "
                   "(default benchmarks/results/models-<time>.json)")
    p.add_argument("--profile", type=int, default=0, metavar="STEPS",
                   help="instead of timing: cProfile of STEPS deepnum steps of each case")
    p.add_argument("--probe", nargs=2, metavar=("CASE", "CONTENDER"), help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = sorted(set(args.cases) - set(CASES))
    if unknown:
        p.error(f"unknown case(s) {unknown}; choose from {list(CASES)}")
    args.steps = args.steps or 1
    args.repeats = args.repeats or (1 if args.quick else 7)
    args.warmup = (0 if args.quick else 1) if args.warmup is None else args.warmup
    return args


def main(argv=None) -> dict:
    args = parse_args(argv)
    if args.probe:
        print(json.dumps(probe(*args.probe, threads=args.threads)))
        return {}
    if args.profile:
        for name in args.cases:
            print(profile(name, args.profile, args.threads))
        return {}
    threads = harness.set_threads(args.threads)
    started = datetime.datetime.now(datetime.timezone.utc)
    facts = harness.machine_facts()
    print(f"deepnum models benchmark: {started:%Y-%m-%d %H:%M} UTC; {facts.get('cpu')}; "
          f"threads {threads}; load {harness.load_average()}", flush=True)
    print(HEADER, flush=True)
    rows = []
    for name in args.cases:
        rows += run_case(name, args)
    table = HEADER + "\n" + "\n".join(format_row(r) for r in rows)
    print()
    print(table)
    result = {"started": started.isoformat(timespec="seconds"), "argv": sys.argv[1:],
              "quick": args.quick, "threads": threads, "machine": facts,
              "jit_end": harness.jit_facts(), "load_avg_end": harness.load_average(),
              "rows": rows, "table": table}
    harness.write_results(result, args.json, "models", started)
    return result


if __name__ == "__main__":
    main()
