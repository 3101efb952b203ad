"""Every claim of the lectures as one command: ``deepnum demo NAME``.

Each demo trains what it needs (seeded, offline, seconds to a minute on two cores), writes its
figures (PNG) and a table (CSV) to an output folder, says in a sentence or two what it shows, and
checks its claim: a claim that does not hold fails the demo (non-zero exit, the numbers in the
message). ``deepnum demo all`` runs them all and gathers figures and verdicts in ``report.html``.

>>> from deepnum.demos import run
>>> result = run("softmax", "demo-output/softmax", fast=True)
>>> result.status, result.summary    # ('passed', 'softmax([1.2, 0.9, 0.4]) = ...')
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
import traceback
from pathlib import Path

from deepnum.demos.context import DemoContext, markdown_table
from deepnum.demos.registry import DemoResult, DemoUnavailable, load_all


def __getattr__(name):
    if name == "DEMOS":  # the registry, filled on first use
        return load_all()
    raise AttributeError(f"module 'deepnum.demos' has no attribute {name!r}")


__all__ = ["DEMOS", "DemoResult", "DemoUnavailable", "build_parser", "main", "run",
           "run_from_args", "run_many"]


def run(name: str, out_dir, fast: bool = False, interactive: bool = False) -> DemoResult:
    """Run the demo ``name``, writing into ``out_dir``; never raises for a failed claim.

    ``interactive`` lets a demo go on to something that waits for the user (the Playground demo
    then serves the Playground until Ctrl-C); the command sets it only for one demo in a terminal.
    """
    demos = load_all()
    if name not in demos:
        raise ValueError(f"unknown demo {name!r}; known demos: {', '.join(demos)}")
    import deepnum as dn

    demo = demos[name]
    ctx = DemoContext(name, out_dir, fast)
    ctx.interactive = interactive
    dn.manual_seed(0)
    start = time.perf_counter()
    status, message = "passed", ""
    try:
        with _one_blas_thread():
            demo.func(ctx)
    except DemoUnavailable as e:
        status, message = "unavailable", str(e)
    except Exception as e:  # a crashing demo is reported, and the others still run
        status, message = "error", f"{type(e).__name__}: {e}\n{traceback.format_exc()}"
    if status == "passed":
        failed = [c for c in ctx.checks if not c.passed]
        if not ctx.checks:
            status, message = "error", "the demo checked nothing"
        elif failed:
            status = "failed"
            message = "; ".join(f"{c.name} ({c.detail})" for c in failed)
    return DemoResult(name, demo.title, status, ctx.summary, ctx.figures, ctx.tables, ctx.checks,
                      time.perf_counter() - start, message)


def _one_blas_thread():
    """The demos' matrices are small: BLAS threads only fight each other (and, on a shared machine,
    everyone else), so a demo runs with one. threadpoolctl comes with scikit-learn."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(1)


def run_many(names, out_dir, fast: bool = False, echo=print,
             interactive: bool = False) -> list[DemoResult]:
    """Run several demos, each into ``out_dir/NAME``, and write ``out_dir/report.html``."""
    from deepnum.demos.report import write_report

    demos = load_all()
    out_dir = Path(out_dir)
    results = []
    for name in names:
        echo(f"== {name}: {demos[name].title}")
        result = run(name, out_dir / name, fast, interactive)
        _print_result(result, echo)
        results.append(result)
    report = write_report(results, out_dir, fast)
    echo(f"report: {report}")
    return results


def _print_result(result: DemoResult, echo) -> None:
    if result.summary:
        echo(result.summary)
    for _, caption, rows in result.tables[:1]:
        if len(rows) <= 12:
            echo(caption)
            echo(markdown_table(rows))
    for check in result.checks:
        echo(f"  [{'ok' if check.passed else 'FAIL'}] {check.name}: {check.detail}")
    verdict = result.status.upper()
    echo(f"-> {verdict} in {result.seconds:.1f} s" + (f": {result.message}" if result.message
                                                      and result.status != "failed" else ""))


def build_parser(parser: argparse.ArgumentParser | None = None) -> argparse.ArgumentParser:
    """The arguments of ``deepnum demo``; the CLI passes its subparser here."""
    parser = parser or argparse.ArgumentParser(prog="deepnum demo",
                                               description="Run the lectures' claims as demos.")
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="demo names, or 'all' (see --list)")
    parser.add_argument("--list", action="store_true", help="list the demos and exit")
    parser.add_argument("--fast", action="store_true",
                        help="few epochs and little data: seconds per demo, still a real check")
    parser.add_argument("--out", default="demo-output", metavar="DIR",
                        help="output folder (default: ./demo-output)")
    return parser


def main(argv=None) -> int:
    """``deepnum demo NAME|all [--fast] [--out DIR]`` and ``deepnum demo --list``; returns the exit
    code: 0 if every demo passed, 1 if a claim failed or a demo crashed, 2 if a demo named on the
    command line cannot run here (``all`` lists such demos as unavailable but does not fail)."""
    args = build_parser().parse_args(sys.argv[1:] if argv is None else argv)
    return run_from_args(args)


def run_from_args(args) -> int:
    """Carry out parsed ``deepnum demo`` arguments (the CLI's subcommand calls this)."""
    demos = load_all()
    if args.list or not args.names:
        width = max(map(len, demos))
        for demo in demos.values():
            print(f"{demo.name:{width}}  {demo.title}")
        if not args.list:
            print("\nusage: deepnum demo NAME|all [--fast] [--out DIR]")
        return 0
    everything = "all" in args.names
    names = list(demos) if everything else args.names
    unknown = [n for n in names if n not in demos]
    if unknown:
        print(f"unknown demo(s): {', '.join(unknown)}; known: {', '.join(demos)}",
              file=sys.stderr)
        return 2
    interactive = len(names) == 1 and not args.fast and sys.stdin.isatty() and sys.stdout.isatty()
    results = run_many(names, args.out, args.fast, interactive=interactive)
    bad = [r for r in results if r.status in ("failed", "error")]
    missing = [r for r in results if r.status == "unavailable"]
    print(f"\n{sum(r.ok for r in results)} of {len(results)} demos passed; {len(bad)} failed"
          + (f"; {len(missing)} unavailable" if missing else ""))
    for r in bad:
        print(f"FAILED {r.name}: {r.message.splitlines()[0] if r.message else r.status}",
              file=sys.stderr)
    for r in missing:
        print(f"UNAVAILABLE {r.name}: {r.message}", file=sys.stderr)
    if bad:
        return 1
    if missing and not everything:
        return 2
    return 0
