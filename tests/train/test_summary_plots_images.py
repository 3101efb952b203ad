import numpy as np
import pytest
from PIL import Image

import deepnum.nn as nn
from deepnum.data import load_digits
from deepnum.errors import DataError
from deepnum.train import summary
from deepnum.train.images import prepare_digit
from deepnum.train.plots import plot_confusion_matrix, plot_first_layer, plot_history


class Nested(nn.Module):  # a model that is not a Sequential, with a Sequential inside
    def __init__(self):
        super().__init__()
        self.features = nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU())
        self.head = nn.Linear(32, 10)

    def forward(self, x):
        return self.head(self.features(x))


def test_summary_of_a_nested_model():
    model = Nested()
    model.train()
    s = summary(model, (1, 8, 8))
    assert [(r.name, r.output_shape, r.num_params) for r in s.rows] == [
        ("", "(N, 10)", 0), ("features", "(N, 32)", 0), ("features.0", "(N, 64)", 0),
        ("features.1", "(N, 32)", 64 * 32 + 32), ("features.2", "(N, 32)", 0),
        ("head", "(N, 10)", 330)]
    assert s.total_params == model.num_parameters() == 64 * 32 + 32 + 330
    text = str(s)
    assert "Total params: 2,410" in text and "1 (Linear)" in text
    assert model.training  # mode restored
    assert "forward" not in model.features.__dict__  # the shape probes are removed


def test_summary_renders_with_rich():
    from rich.console import Console

    console = Console(record=True, width=100)
    console.print(summary(nn.Sequential(nn.Linear(3, 4)), (3,)))
    assert "Total params: 16" in console.export_text()


def test_plots_are_png_files(tmp_path):
    history = {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.6, 0.5], "accuracy": [0.5, 0.8, 0.9]}
    paths = [plot_history(history, tmp_path / "curves.png"),
             plot_confusion_matrix(np.eye(3, dtype=int) * 5, tmp_path / "cm.png", ["a", "b", "c"]),
             plot_first_layer(nn.Sequential(nn.Flatten(), nn.Linear(784, 12)),
                              tmp_path / "w.png")]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(ValueError, match="do not form an image"):
        plot_first_layer(nn.Linear(10, 3), tmp_path / "x.png")


def _digit_picture(image8: np.ndarray, scale: int = 12, margin: int = 40) -> Image.Image:
    """An 8x8 digit drawn big, dark ink on a white page, off-centre: like a phone photo."""
    big = np.kron(image8, np.ones((scale, scale)))
    page = np.ones((big.shape[0] + 2 * margin, big.shape[1] + 3 * margin))
    page[margin:margin + big.shape[0], 2 * margin:2 * margin + big.shape[1]] -= big
    return Image.fromarray((np.clip(page, 0, 1) * 255).astype(np.uint8))


def test_prepare_digit_mnist_convention():
    x, y, _, _ = load_digits()
    out = prepare_digit(_digit_picture(x[0]), size=28)
    assert out.shape == (1, 28, 28) and out.dtype == np.float32
    assert out.max() <= 1 and out[0, 0, 0] == 0  # white digit on black
    rows, cols = np.nonzero(out[0] > 0.1)
    assert max(np.ptp(rows), np.ptp(cols)) + 1 <= 21  # fits 20x20 (resampling may bleed a pixel)
    weights = out[0] / out[0].sum()
    cy, cx = (weights.sum(1) @ np.arange(28)), (weights.sum(0) @ np.arange(28))
    assert abs(cy - 13.5) <= 1 and abs(cx - 13.5) <= 1  # centre of mass in the middle


def test_prepare_digit_8x8_convention_recovers_the_digit():
    x, _, _, _ = load_digits()
    out = prepare_digit(_digit_picture(x[3]), size=8)[0]
    assert out.shape == (8, 8)
    assert np.corrcoef(out.ravel(), x[3].ravel())[0, 1] > 0.7


def test_prepare_digit_reads_transparent_canvas_and_files(tmp_path):
    canvas = np.zeros((100, 100, 4), np.uint8)
    canvas[20:80, 45:55] = (255, 255, 255, 255)  # a white "1" on a transparent canvas
    path = tmp_path / "one.png"
    Image.fromarray(canvas, "RGBA").save(path)
    out = prepare_digit(path)
    assert out[0, 14, 14] > 0.9 and out[0, 14, 2] == 0
    with pytest.raises(DataError, match="blank"):
        prepare_digit(np.full((30, 30), 255, np.uint8))
    (tmp_path / "bad.png").write_text("no image")
    with pytest.raises(DataError, match="not a readable image"):
        prepare_digit(tmp_path / "bad.png")
