"""Every code block of every documentation page runs, so no page shows code that no longer does.

One test per page: its python blocks in order in one namespace, its bash blocks in a shell
whose ``deepnum`` is this source tree's, all in a scratch folder that sees examples/ and
benchmarks/ (see tests/docs/pages.py for the markers that skip a block, and why)."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import traceback

import pytest

from tests.docs.pages import DOCS, ROOT, RUN, SHOWN, blocks, pages

PAGES = pages()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A scratch folder like the repository's root (examples/, benchmarks/) and a PATH whose
    ``deepnum`` runs this source tree's code with this interpreter."""
    folder = tmp_path_factory.mktemp("docs-run")
    for name in ("examples", "benchmarks"):
        (folder / name).symlink_to(ROOT / name)
    bin_dir = tmp_path_factory.mktemp("bin")
    shim = bin_dir / "deepnum"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m deepnum.cli "$@"\n')
    shim.chmod(0o755)
    # one BLAS thread, as the suite pins per worker: these small matrices only fight over cores
    threads = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                                "NUMBA_NUM_THREADS")}
    env = dict(os.environ, **threads, PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
               MPLBACKEND="Agg",
               PYTHONPATH=os.pathsep.join([str(ROOT / "src"), str(ROOT),
                                           os.environ.get("PYTHONPATH", "")]))
    return folder, env


def _available(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:
        return False


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(DOCS)) for p in PAGES])
def test_page_code_runs(page, workdir, monkeypatch):
    folder, env = workdir
    monkeypatch.chdir(folder)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    namespace = {"__name__": "__docs__"}
    ran, skipped = 0, []
    for block in blocks(page):
        if block.language not in RUN:
            continue
        if block.skip:
            skipped.append(f"{block.where}: {block.skip}")
            continue
        if block.requires and not _available(block.requires):
            skipped.append(f"{block.where}: needs {block.requires}")
            continue
        if block.language == "python":
            try:
                exec(compile(block.code, block.where, "exec"), namespace)  # noqa: S102
            except Exception:
                pytest.fail(f"{block.where}: the python block failed\n{traceback.format_exc()}")
        else:
            result = subprocess.run(["bash", "-euo", "pipefail", "-c", block.runnable_bash()],
                                    cwd=folder, env=env, capture_output=True, text=True,
                                    timeout=900)
            assert result.returncode == 0, (f"{block.where}: the bash block exited "
                                            f"{result.returncode}\n{block.code}\n"
                                            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
        ran += 1
    if skipped and not ran:
        pytest.skip("; ".join(skipped))


def test_every_block_is_code_we_run_or_output_we_show():
    unknown = [f"{b.where}: ```{b.language}" for p in PAGES for b in blocks(p)
               if b.language not in RUN | SHOWN]
    assert not unknown, "blocks in a language the docs test neither runs nor treats as " \
                        "output (use python, bash, text, csv or json):\n" + "\n".join(unknown)


def test_skips_are_few_and_say_why():
    skipped = [b for p in PAGES for b in blocks(p) if b.skip and b.language in RUN]
    total = [b for p in PAGES for b in blocks(p) if b.language in RUN]
    assert all(len(b.skip) > 10 for b in skipped), [b.where for b in skipped]
    assert len(skipped) <= max(3, len(total) // 8), [f"{b.where}: {b.skip}" for b in skipped]
