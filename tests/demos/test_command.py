"""`deepnum demo`: listing, exit codes, loud failures, and the wiring into the `deepnum` command."""

from __future__ import annotations

import pytest

from deepnum.demos import DEMOS, main, run
from deepnum.demos.registry import Demo, DemoUnavailable


def test_list_names_every_demo(capsys):
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    for name in DEMOS:
        assert name in out


def test_unknown_demo_is_an_error(capsys):
    assert main(["no-such-demo"]) == 2
    assert "unknown demo" in capsys.readouterr().err


@pytest.fixture
def fake_demos(monkeypatch):
    def false_claim(ctx):
        ctx.say("a claim that does not hold")
        ctx.check("one equals two", 1 == 2, "1 != 2")

    def missing(ctx):
        raise DemoUnavailable("deepnum.something is not there yet")

    def crashes(ctx):
        raise RuntimeError("boom")

    def checks_nothing(ctx):
        ctx.say("no check")

    for name, func in (("false", false_claim), ("missing", missing), ("crash", crashes),
                       ("nothing", checks_nothing)):
        monkeypatch.setitem(DEMOS, f"test-{name}", Demo(f"test-{name}", name, func))


def test_a_false_claim_fails_loudly(fake_demos, tmp_path, capsys):
    assert main(["test-false", "--out", str(tmp_path)]) == 1
    captured = capsys.readouterr()
    assert "FAILED test-false" in captured.err and "one equals two" in captured.err
    assert "[FAIL] one equals two: 1 != 2" in captured.out
    assert "failed" in (tmp_path / "report.html").read_text()


def test_crash_and_empty_demo_are_errors(fake_demos, tmp_path):
    assert run("test-crash", tmp_path / "a").status == "error"
    assert "boom" in run("test-crash", tmp_path / "a").message
    assert run("test-nothing", tmp_path / "b").status == "error"
    assert main(["test-nothing", "--out", str(tmp_path)]) == 1


def test_unavailable_demo(fake_demos, tmp_path, capsys):
    result = run("test-missing", tmp_path)
    assert result.status == "unavailable" and "not there yet" in result.message
    assert main(["test-missing", "--out", str(tmp_path)]) == 2  # named explicitly: not done
    assert "UNAVAILABLE test-missing: deepnum.something" in capsys.readouterr().err


def test_deepnum_command_has_demo(tmp_path, capsys):
    cli = pytest.importorskip("deepnum.cli")
    assert cli.main(["demo", "--list"]) == 0
    assert "softmax" in capsys.readouterr().out
    assert cli.main(["demo", "softmax", "--fast", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "softmax" / "softmax.png").exists()
    assert (tmp_path / "report.html").exists()
