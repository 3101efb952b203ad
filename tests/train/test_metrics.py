import numpy as np
import pytest
from sklearn import metrics as sk

from deepnum.train import metrics as M


@pytest.fixture
def scores(rng):
    outputs = rng.standard_normal((200, 5))
    targets = rng.integers(0, 5, 200)
    return outputs, targets


def test_accuracy_and_top_k_match_sklearn(scores):
    outputs, targets = scores
    assert M.accuracy(outputs, targets) == pytest.approx(
        sk.accuracy_score(targets, outputs.argmax(1)))
    for k in (1, 2, 4):
        assert M.top_k_accuracy(outputs, targets, k) == pytest.approx(
            sk.top_k_accuracy_score(targets, outputs, k=k, labels=range(5)))


def test_confusion_matrix_and_per_class_scores_match_sklearn(scores):
    outputs, targets = scores
    predictions = outputs.argmax(1)
    cm = M.confusion_matrix(targets, predictions, 5)
    np.testing.assert_array_equal(cm, sk.confusion_matrix(targets, predictions, labels=range(5)))
    got = M.precision_recall_f1(cm)
    p, r, f, s = sk.precision_recall_fscore_support(targets, predictions, labels=range(5),
                                                    zero_division=0)
    for mine, theirs in zip((got["precision"], got["recall"], got["f1"], got["support"]),
                            (p, r, f, s)):
        np.testing.assert_allclose(mine, theirs)


def test_never_predicted_class_has_zero_precision():
    scores = M.precision_recall_f1(M.confusion_matrix([0, 1, 2], [0, 0, 0], 3))
    assert scores["precision"].tolist() == [1 / 3, 0, 0]
    assert "macro" in M.classification_report(M.confusion_matrix([0, 1], [0, 1]), ["a", "b"])


def test_streaming_metrics_equal_whole_array_values(scores, rng):
    outputs, targets = scores
    accuracy, top3 = M.get_metric("accuracy"), M.get_metric("top3")
    for start in range(0, 200, 37):  # uneven batches: a mean of batch means would be wrong
        accuracy.update(outputs[start:start + 37], targets[start:start + 37])
        top3.update(outputs[start:start + 37], targets[start:start + 37])
    assert accuracy.result() == pytest.approx(M.accuracy(outputs, targets))
    assert top3.result() == pytest.approx(M.top_k_accuracy(outputs, targets, 3))
    assert top3.name == "top3_accuracy"

    y, t = rng.standard_normal((50, 1)), rng.standard_normal(50)
    mse, mae = M.get_metric("mse"), M.get_metric("mae")
    for part in (slice(0, 20), slice(20, None)):
        mse.update(y[part], t[part])
        mae.update(y[part], t[part])
    assert mse.result() == pytest.approx(sk.mean_squared_error(t, y[:, 0]))
    assert mae.result() == pytest.approx(sk.mean_absolute_error(t, y[:, 0]))
    assert M.mean_squared_error(y, t) == pytest.approx(mse.result())


def test_binary_single_logit_accuracy():
    assert M.accuracy(np.array([[2.0], [-1.0], [0.5]]), np.array([1, 0, 0])) == pytest.approx(2 / 3)


def test_unknown_metric_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown metric 'f2'"):
        M.get_metric("f2")
