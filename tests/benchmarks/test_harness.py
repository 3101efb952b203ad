"""benchmarks.harness: how contenders are interleaved and timed."""

from __future__ import annotations

from benchmarks import harness


def test_each_timed_contender_starts_after_a_rest_outside_its_time(monkeypatch):
    events = []
    monkeypatch.setattr(harness, "COOL_DOWN_S", 0.25)
    monkeypatch.setattr(harness.time, "sleep", lambda s: events.append(("rest", s)))
    contenders = {"a": lambda: events.append("a"), "b": lambda: events.append("b")}
    timings = harness.interleave(contenders, repeats=2, warmup=1)
    # every run, warm-up included, follows a rest; the order alternates between rounds
    assert events == [("rest", 0.25), "a", ("rest", 0.25), "b",
                      ("rest", 0.25), "b", ("rest", 0.25), "a",
                      ("rest", 0.25), "a", ("rest", 0.25), "b"]
    assert {name: len(t["samples_s"]) for name, t in timings.items()} == {"a": 2, "b": 2}


def test_the_rest_is_not_in_the_time(monkeypatch):
    monkeypatch.setattr(harness, "COOL_DOWN_S", 0.05)
    timings = harness.interleave({"a": lambda: None, "b": lambda: None}, repeats=2, warmup=0)
    assert all(t["min_s"] < 0.01 for t in timings.values())


def test_no_rest_when_it_is_set_to_zero(monkeypatch):
    monkeypatch.setattr(harness, "COOL_DOWN_S", 0.0)
    monkeypatch.setattr(harness.time, "sleep", lambda s: (_ for _ in ()).throw(AssertionError))
    harness.interleave({"a": lambda: None}, repeats=1, warmup=0)
