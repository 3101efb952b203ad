"""Data-parallel training under mpiexec: 2 ranks on loopback and 2 ranks in two network
namespaces joined by a veth pair; one step equals one rank on the double batch, reruns and
resumes are bit-identical, and a killed rank ends the job in bounded time."""

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mpi4py")
JOB = str(Path(__file__).with_name("job.py"))
MPIEXEC = str(Path(sys.executable).with_name("mpiexec")) if Path(sys.executable).with_name(
    "mpiexec").exists() else shutil.which("mpiexec")
if MPIEXEC is None:
    pytest.skip("mpiexec is not installed (pip install 'deepnum[distributed]')",
                allow_module_level=True)
ENV = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}


def mpirun(n, *args, timeout=120, prefix=(), extra=()):
    command = [*prefix, MPIEXEC, *extra, "-n", str(n), sys.executable, JOB, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=ENV)


def _params(path):
    with np.load(path) as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


def test_two_ranks_with_half_batches_equal_one_rank_with_the_whole(tmp_path):
    one, two = tmp_path / "one.npz", tmp_path / "two.npz"
    for n, out in ((1, one), (2, two)):
        result = mpirun(n, "one-step", str(out), "128")
        assert result.returncode == 0, result.stderr
    for a, b in zip(_params(one), _params(two)):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)  # float32 rounding


def test_all_reduce_sums_in_rank_order_on_three_ranks(tmp_path):
    """The all-to-all + all-gather reduction gives exactly the serial sum a[0] + a[1] + a[2]
    (the same additions in the same order), on sizes that do not split evenly."""
    out = tmp_path / "reduce.npz"
    result = mpirun(3, "reduce", str(out))
    assert result.returncode == 0, result.stderr
    with np.load(out) as got:
        for size in (1, 7, 1000):
            parts = [np.random.default_rng([r, size]).standard_normal(size).astype(np.float32)
                     for r in range(3)]
            total = (parts[0] + parts[1]) + parts[2]
            expected = {"sum": total, "mean": total / np.float32(3),
                        "max": np.maximum.reduce(parts), "min": np.minimum.reduce(parts)}
            for op, value in expected.items():
                np.testing.assert_array_equal(got[f"{op}_{size}"], value, err_msg=op)


def _train(out, epochs, *extra):
    # a constant rate: a run of 2 epochs resumed to 3 is then a run of 3 (cosine's schedule
    # would depend on the planned number of epochs)
    return mpirun(2, "cli", "train", "--dataset", "digits", "--epochs", str(epochs),
                  "--out", str(out), "--verbose", "0", "--batch-size", "32",
                  "--lr-schedule", "none", *extra)


def _weights(out):
    import deepnum as dn

    return [p.numpy() for p in dn.load(Path(out) / "model.safetensors").parameters()]


def test_reruns_and_resumes_are_bit_identical(tmp_path):
    first, again, resumed = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for out, epochs in ((first, 3), (again, 3), (resumed, 2)):
        result = _train(out, epochs)
        assert result.returncode == 0, result.stderr
    assert result.stdout.count("Test accuracy") == 1  # only rank 0 prints
    result = mpirun(2, "cli", "train", "--out", str(resumed), "--resume", "--epochs", "3",
                    "--verbose", "0")
    assert result.returncode == 0, result.stderr
    for a, b, c in zip(_weights(first), _weights(again), _weights(resumed)):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_resuming_with_another_number_of_ranks_is_refused(tmp_path):
    assert _train(tmp_path / "a", 1).returncode == 0
    result = mpirun(1, "cli", "train", "--out", str(tmp_path / "a"), "--resume", "--epochs",
                    "2", "--verbose", "0")
    assert result.returncode == 2 and "2 rank(s)" in result.stderr, result.stderr


def test_a_killed_rank_ends_the_job_in_bounded_time_and_resume_continues(tmp_path):
    out = tmp_path / "run"
    command = [MPIEXEC, "-n", "2", sys.executable, JOB, "cli", "train", "--dataset", "digits",
               "--epochs", "60", "--out", str(out), "--verbose", "0", "--batch-size", "8"]
    job = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           env=ENV, start_new_session=True)
    try:
        deadline = time.time() + 90
        while not (out / "checkpoint.safetensors").exists() and time.time() < deadline:
            time.sleep(0.2)
        assert (out / "checkpoint.safetensors").exists(), "no checkpoint was written"
        ranks = subprocess.run(["pgrep", "-f", f"{JOB} cli train.*{out}"], capture_output=True,
                               text=True).stdout.split()
        victim = max(int(p) for p in ranks)  # one of the two rank processes
        os.kill(victim, signal.SIGKILL)
        started = time.time()
        output, _ = job.communicate(timeout=60)
        assert time.time() - started < 30, "the surviving rank hung"
        assert job.returncode != 0
        assert f"PID {victim}" in output  # the MPI runtime names the lost process
    finally:
        if job.poll() is None:
            os.killpg(job.pid, signal.SIGKILL)
    result = mpirun(2, "cli", "train", "--out", str(out), "--resume", "--epochs", "3",
                    "--verbose", "0", timeout=180)
    assert result.returncode == 0, result.stderr


LAUNCHER = """#!/bin/bash
# hydra's ssh launcher calls: LAUNCHER [options] HOST COMMAND; run COMMAND in HOST's namespace
while [[ "$1" == -* ]]; do shift; done
host=$1; shift
case "$host" in
  {a_ip}) ns={a} ;;
  {b_ip}) ns={b} ;;
  *) exit 1 ;;
esac
exec ip netns exec $ns bash -c "$*"
"""


@pytest.fixture
def namespaces(tmp_path):
    """Two network namespaces joined by a veth pair, with their own addresses (removed after)."""
    if os.geteuid() != 0 or shutil.which("ip") is None:
        pytest.skip("network namespaces need root and iproute2 (ip)")
    tag = f"dn{os.getpid() % 10000}"
    a, b, va, vb = f"{tag}a", f"{tag}b", f"{tag}va", f"{tag}vb"
    a_ip, b_ip = "10.213.7.1", "10.213.7.2"
    steps = [["ip", "netns", "add", a], ["ip", "netns", "add", b],
             ["ip", "link", "add", va, "type", "veth", "peer", "name", vb],
             ["ip", "link", "set", va, "netns", a], ["ip", "link", "set", vb, "netns", b],
             ["ip", "-n", a, "addr", "add", f"{a_ip}/24", "dev", va],
             ["ip", "-n", b, "addr", "add", f"{b_ip}/24", "dev", vb],
             ["ip", "-n", a, "link", "set", "lo", "up"], ["ip", "-n", b, "link", "set", "lo", "up"],
             ["ip", "-n", a, "link", "set", va, "up"], ["ip", "-n", b, "link", "set", vb, "up"]]
    try:
        for step in steps:
            made = subprocess.run(step, capture_output=True, text=True)
            if made.returncode:
                pytest.skip(f"cannot make network namespaces here: {made.stderr.strip()}")
        launcher = tmp_path / "launcher.sh"
        launcher.write_text(LAUNCHER.format(a=a, b=b, a_ip=a_ip, b_ip=b_ip))
        launcher.chmod(0o755)
        yield {"a": a, "b": b, "va": va, "hosts": f"{a_ip},{b_ip}", "launcher": str(launcher)}
    finally:
        for ns in (a, b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)


def _bytes_sent(ns, dev):
    stats = subprocess.run(["ip", "-n", ns, "-s", "link", "show", dev], capture_output=True,
                           text=True).stdout.split("\n")
    tx = next(i for i, line in enumerate(stats) if line.strip().startswith("TX:"))
    return int(stats[tx + 1].split()[0])


def test_two_ranks_across_network_namespaces(namespaces, tmp_path):
    before = _bytes_sent(namespaces["a"], namespaces["va"])
    out = tmp_path / "two.npz"
    result = mpirun(2, "one-step", str(out), "128", prefix=["ip", "netns", "exec",
                                                             namespaces["a"]],
                    extra=["-hosts", namespaces["hosts"], "-launcher", "ssh",
                           "-launcher-exec", namespaces["launcher"]])
    assert result.returncode == 0, result.stderr
    sent = _bytes_sent(namespaces["a"], namespaces["va"]) - before
    assert sent > 4 * 1000, f"only {sent} bytes crossed the veth"
    one = tmp_path / "one.npz"
    assert mpirun(1, "one-step", str(one), "128").returncode == 0
    for x, y in zip(_params(one), _params(out)):
        np.testing.assert_allclose(x, y, rtol=1e-6, atol=1e-7)
