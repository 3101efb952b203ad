"""The TensorBoard callback: its event files, read back record by record (length, CRC-32C, Event
protobuf, as TensorBoard reads them), hold the run's scalars, histograms and graph."""

import struct

import numpy as np
import pytest

pytest.importorskip("tensorboardX")

import deepnum as dn  # noqa: E402
import deepnum.nn as nn  # noqa: E402
from deepnum.data import make_circle  # noqa: E402
from deepnum.train import TensorBoard, Trainer  # noqa: E402


def read_events(folder):
    """Every Event in the event files of ``folder``, checking each record's two checksums."""
    from tensorboardX.proto.event_pb2 import Event
    from tensorboardX.record_writer import masked_crc32c

    events = []
    for path in sorted(folder.glob("events.out.tfevents.*")):
        data = path.read_bytes()
        at = 0
        while at < len(data):
            header = data[at:at + 8]
            (length,) = struct.unpack("<Q", header)
            (header_crc,) = struct.unpack("<I", data[at + 8:at + 12])
            assert header_crc == masked_crc32c(header), f"{path}: bad length checksum"
            body = data[at + 12:at + 12 + length]
            (body_crc,) = struct.unpack("<I", data[at + 12 + length:at + 16 + length])
            assert body_crc == masked_crc32c(body), f"{path}: bad record checksum"
            events.append(Event.FromString(body))
            at += 16 + length
    return events


def scalars(events) -> dict:
    out = {}
    for e in events:
        for v in e.summary.value:
            if v.HasField("simple_value"):
                out.setdefault(v.tag, []).append((e.step, v.simple_value))
    return out


@pytest.fixture
def run(tmp_path):
    x, y = make_circle(n=200, noise=0.05, seed=0)
    x = x.astype(np.float32)
    dn.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 2))
    board = TensorBoard(tmp_path / "tb", update_freq=5, input_shape=(2,))
    trainer = Trainer(model, lr=0.1)
    history = trainer.fit((x[:150], y[:150]), val=(x[150:], y[150:]), epochs=3, batch_size=25,
                          callbacks=[board], verbose=0)
    return tmp_path / "tb", history, model


def test_epoch_scalars_are_the_history(run):
    folder, history, _ = run
    train, validation = scalars(read_events(folder / "train")), \
        scalars(read_events(folder / "validation"))
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose([v for _, v in train[f"epoch_{key}"]],
                                   history.history[key], rtol=1e-6)
        np.testing.assert_allclose([v for _, v in validation[f"epoch_{key}"]],
                                   history.history[f"val_{key}"], rtol=1e-6)
        assert [s for s, _ in train[f"epoch_{key}"]] == [0, 1, 2]
    np.testing.assert_allclose([v for _, v in train["epoch_learning_rate"]], [0.1] * 3)
    # 6 batches an epoch, written every 5th: at optimizer steps 5, 11, 17
    assert [s for s, _ in train["batch_loss"]] == [5, 11, 17]


def test_histograms_of_weights_and_gradients_and_the_graph(run):
    folder, _, model = run
    events = read_events(folder / "train")
    histograms = {}
    for e in events:
        for v in e.summary.value:
            if v.HasField("histo"):
                histograms.setdefault(v.tag, []).append(v.histo)
    names = [n for n, _ in model.named_parameters()]
    assert set(histograms) == set(names) | {f"{n}/gradient" for n in names}
    last = histograms["0.weight"][-1]
    assert last.num == 16
    assert last.sum == pytest.approx(float(model[0].weight.array.sum()), rel=1e-5, abs=1e-6)
    graphs = [e.graph_def for e in events if e.graph_def]
    assert len(graphs) == 1
    from tensorboardX.proto.graph_pb2 import GraphDef

    nodes = GraphDef.FromString(graphs[0]).node
    assert [n.name for n in nodes] == ["input", "Sequential/0", "Sequential/1", "Sequential/2",
                                       "output"]
    assert [list(n.input) for n in nodes] == [[], ["input"], ["Sequential/0"],
                                              ["Sequential/1"], ["Sequential/2"]]
    assert [n.op for n in nodes[1:4]] == ["Linear", "Tanh", "Linear"]


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="update_freq"):
        TensorBoard(update_freq="sometimes")
    with pytest.raises(ValueError, match="histogram_freq"):
        TensorBoard(histogram_freq=-1)
