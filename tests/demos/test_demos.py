"""Every demo runs in fast mode and its claim holds; the HTML report shows every figure."""

from __future__ import annotations

import os
from html.parser import HTMLParser
from pathlib import Path

import pytest

from deepnum.demos import DEMOS, run_many
from deepnum.demos.registry import load_all

CORE = [name for name, demo in load_all().items() if demo.core]
ENTRY_POINTS = [name for name, demo in DEMOS.items() if not demo.core]
SLOW_ENTRY_POINTS = {"lstm", "gan", "dqn"}  # they run the example scripts: ~5 CPU s each


class _Images(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources, self.sections = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "img":
            self.sources.append(attrs["src"])
        if tag == "h2":
            self.sections.append(attrs.get("id"))


@pytest.fixture(scope="module")
def core_run(tmp_path_factory):
    """All core demos, fast, once: their results and the report folder."""
    out = tmp_path_factory.mktemp("demos")
    results = run_many(CORE, out, fast=True, echo=lambda *_: None)
    return {r.name: r for r in results}, out


def _explain(result) -> str:
    checks = "\n".join(f"  [{'ok' if c.passed else 'FAIL'}] {c.name}: {c.detail}"
                       for c in result.checks)
    return f"{result.name}: {result.status}\n{result.message}\n{checks}"


@pytest.mark.parametrize("name", CORE)
def test_core_demo_claim_holds(core_run, name):
    result = core_run[0][name]
    assert result.status == "passed", _explain(result)
    assert result.checks and all(c.passed for c in result.checks)
    assert result.summary
    folder = core_run[1] / name
    for file, _ in result.figures:
        assert (folder / file).stat().st_size > 1000, file  # a real PNG, not an empty file
        assert (folder / file).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    for file, _, rows in result.tables:
        assert (folder / file).exists() and rows


def test_report_shows_every_figure(core_run):
    results, out = core_run
    page = (out / "report.html").read_text(encoding="utf-8")
    parser = _Images()
    parser.feed(page)
    assert parser.sections == list(results)
    for src in parser.sources:
        assert (out / src).is_file(), f"report.html refers to a missing figure {src}"
    expected = {f"{name}/{file}" for name, r in results.items() for file, _ in r.figures}
    assert expected and expected == set(parser.sources)
    assert all(r.status in page for r in results.values())


def test_every_lecture_claim_has_a_demo():
    wanted = {"neuron", "perceptron", "xor", "activations", "nonlinearity", "universal", "softmax",
              "backprop", "sgd", "overfitting", "regularization", "dropout", "depth", "residual",
              "vanishing", "mnist-mlp", "lenet5", "alexnet", "lstm", "gan", "dqn", "playground"}
    assert wanted == set(DEMOS)


def _mnist_dir():
    for root in (os.environ.get("DEEPNUM_DATA"),
                 Path(__file__).resolve().parents[3] / "shared" / "data"):
        if root and (Path(root) / "mnist" / "t10k-images-idx3-ubyte.gz").exists():
            return str(root)
    return None


@pytest.mark.parametrize("name", [
    pytest.param(n, marks=pytest.mark.slow) if n in SLOW_ENTRY_POINTS else n for n in ENTRY_POINTS])
def test_entry_point_passes_or_says_what_is_missing(name, tmp_path, monkeypatch):
    if name == "mnist-mlp":
        data = _mnist_dir()
        if data:
            monkeypatch.setenv("DEEPNUM_DATA", data)
        else:
            monkeypatch.setenv("DEEPNUM_DATA", str(tmp_path / "nothing-here"))
            monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    [result] = run_many([name], tmp_path, fast=True, echo=lambda *_: None)
    if result.status == "unavailable":
        assert result.message, "an unavailable demo must say what is missing"
        if name == "mnist-mlp":
            assert _mnist_dir() is None, result.message
            assert "DEEPNUM_DATA" in result.message
        else:
            pytest.skip(f"{name}: {result.message}")
    else:
        assert result.status == "passed", _explain(result)


def test_every_figure_the_docs_show_is_one_its_demo_writes(core_run):
    """docs/figures/DEMO/FILE (committed, from docs/make_figures.py) must still be a figure of
    DEMO, so renaming a figure cannot leave a documentation page pointing at nothing."""
    root = Path(__file__).resolve().parents[2] / "docs" / "figures"
    results = core_run[0]
    shown = [p for p in root.glob("*/*.png") if p.parent.name != "train"]
    assert shown
    for path in shown:
        demo = path.parent.name
        assert demo in DEMOS, f"docs/figures/{demo}: no such demo"
        if demo in results:  # the core demos ran here; the entry points' figures need their data
            assert path.name in {f for f, _ in results[demo].figures}, \
                f"docs/figures/{demo}/{path.name} is not a figure demo {demo} writes"
