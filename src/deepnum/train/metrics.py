"""Metrics: accuracy, top-k accuracy, confusion matrix, per-class precision/recall/F1, MSE and MAE.

Plain functions work on whole arrays; the :class:`Metric` classes accumulate the same quantities
batch by batch (sums and counts, so the epoch's value is exact, not an average of batch averages).
Model outputs are logits or probabilities (N, C) for classification, anything for regression.

>>> accuracy(np.array([[2.0, 1.0], [0.0, 3.0]]), np.array([0, 0]))     # 0.5
>>> cm = confusion_matrix([0, 1, 1], [0, 1, 0], num_classes=2)     # rows true, columns predicted
"""

from __future__ import annotations

import numpy as np


def _array(x) -> np.ndarray:
    return np.asarray(x.array if hasattr(x, "_ctx") else x)


def predicted_classes(outputs) -> np.ndarray:
    """argmax over classes; a single output column is a binary logit (class 1 when > 0)."""
    outputs = _array(outputs)
    if outputs.ndim == 1 or outputs.shape[1] == 1:
        return (outputs.reshape(len(outputs)) > 0).astype(np.int64)
    return outputs.argmax(axis=1)


def accuracy(outputs, targets) -> float:
    """Fraction of samples whose highest-scoring class is the target."""
    return float(np.mean(predicted_classes(outputs) == _array(targets).reshape(-1)))


def top_k_accuracy(outputs, targets, k: int = 5) -> float:
    """Fraction of samples whose target is among the ``k`` highest-scoring classes."""
    return _top_k_hits(_array(outputs), _array(targets), k) / len(_array(targets))


def _top_k_hits(outputs: np.ndarray, targets: np.ndarray, k: int) -> int:
    if k < 1:
        raise ValueError(f"top_k_accuracy: k must be >= 1, got {k}")
    k = min(k, outputs.shape[1])
    target_score = np.take_along_axis(outputs, targets.reshape(-1, 1).astype(np.int64), axis=1)
    # Ranked by how many classes score strictly higher: ties count in the target's favour.
    higher = (outputs > target_score).sum(axis=1)
    return int((higher < k).sum())


def confusion_matrix(targets, predictions, num_classes: int | None = None) -> np.ndarray:
    """``cm[i, j]`` = number of samples of true class i predicted as class j."""
    t = _array(targets).reshape(-1).astype(np.int64)
    p = _array(predictions).reshape(-1).astype(np.int64)
    if num_classes is None:
        num_classes = int(max(t.max(initial=-1), p.max(initial=-1))) + 1
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (t, p), 1)
    return cm


def precision_recall_f1(cm) -> dict[str, np.ndarray]:
    """Per-class precision TP/(TP+FP), recall TP/(TP+FN), F1 (their harmonic mean) and support.

    A class never predicted has precision 0 (scikit-learn's ``zero_division=0``).
    """
    cm = np.asarray(cm, dtype=np.float64)
    tp = np.diag(cm)
    predicted, support = cm.sum(axis=0), cm.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        denominator = precision + recall
        f1 = np.where(denominator > 0, 2 * precision * recall / denominator, 0.0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support.astype(np.int64)}


def classification_report(cm, class_names=None) -> str:
    """A text table of per-class precision, recall, F1 and support, plus macro averages."""
    scores = precision_recall_f1(cm)
    names = class_names or [str(i) for i in range(len(scores["f1"]))]
    width = max(8, *(len(str(n)) for n in names))
    lines = [f"{'class':>{width}}  precision  recall  f1-score  support"]
    for i, name in enumerate(names):
        lines.append(f"{str(name):>{width}}  {scores['precision'][i]:9.3f}  "
                     f"{scores['recall'][i]:6.3f}  {scores['f1'][i]:8.3f}  "
                     f"{scores['support'][i]:7d}")
    lines.append(f"{'macro':>{width}}  {scores['precision'].mean():9.3f}  "
                 f"{scores['recall'].mean():6.3f}  {scores['f1'].mean():8.3f}  "
                 f"{scores['support'].sum():7d}")
    return "\n".join(lines)


def mean_squared_error(outputs, targets) -> float:
    outputs, targets = _array(outputs), _array(targets)
    return float(np.mean((outputs.reshape(targets.shape) - targets) ** 2))


def mean_absolute_error(outputs, targets) -> float:
    outputs, targets = _array(outputs), _array(targets)
    return float(np.mean(np.abs(outputs.reshape(targets.shape) - targets)))


# ----------------------------------------------------------------------------- streaming metrics
class Metric:
    """Accumulates a quantity over batches: ``reset()``, ``update(outputs, targets)``, ``result()``.

    ``name`` is the key in the training logs (``val_`` is prefixed for validation).
    """

    name = "metric"

    def __init__(self):
        self.reset()

    def reset(self) -> None:
        self.total, self.count = 0.0, 0

    def update(self, outputs, targets) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def result(self) -> float:
        return self.total / self.count if self.count else float("nan")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Accuracy(Metric):
    name = "accuracy"

    def update(self, outputs, targets) -> None:
        targets = _array(targets).reshape(-1)
        self.total += np.count_nonzero(predicted_classes(outputs) == targets)
        self.count += len(targets)


class TopKAccuracy(Metric):
    def __init__(self, k: int = 5):
        if k < 1:
            raise ValueError(f"TopKAccuracy: k must be >= 1, got {k}")
        self.k, self.name = k, f"top{k}_accuracy"
        super().__init__()

    def update(self, outputs, targets) -> None:
        targets = _array(targets).reshape(-1)
        self.total += _top_k_hits(_array(outputs), targets, self.k)
        self.count += len(targets)

    def __repr__(self) -> str:
        return f"TopKAccuracy(k={self.k})"


class MeanSquaredError(Metric):
    name = "mse"

    def update(self, outputs, targets) -> None:
        targets = _array(targets)
        diff = _array(outputs).reshape(targets.shape) - targets
        self.total += float(np.sum(diff.astype(np.float64) ** 2))
        self.count += diff.size


class MeanAbsoluteError(Metric):
    name = "mae"

    def update(self, outputs, targets) -> None:
        targets = _array(targets)
        diff = _array(outputs).reshape(targets.shape) - targets
        self.total += float(np.sum(np.abs(diff.astype(np.float64))))
        self.count += diff.size


_NAMES = {"accuracy": Accuracy, "acc": Accuracy, "mse": MeanSquaredError,
          "mae": MeanAbsoluteError}


def get_metric(metric) -> Metric:
    """A :class:`Metric` from itself or a name: accuracy, top5 (any ``topK``), mse, mae."""
    if isinstance(metric, Metric):
        return metric
    if isinstance(metric, str):
        key = metric.lower().replace("-", "_")
        if key in _NAMES:
            return _NAMES[key]()
        if key.startswith("top") and key[3:].split("_")[0].isdigit():
            return TopKAccuracy(int(key[3:].split("_")[0]))
    raise ValueError(f"unknown metric {metric!r}; use accuracy, top5 (or topK), mse, mae, "
                     f"or a deepnum.train.metrics.Metric")
