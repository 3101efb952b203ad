import numpy as np
import pytest

import deepnum as dn
import deepnum.nn as nn
from deepnum.data import DataLoader, TensorDataset, make_circle
from deepnum.errors import DivergenceError
from deepnum.optim.lr_scheduler import StepLR
from deepnum.train import (
    Callback,
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    Trainer,
    evaluate,
    fit,
    load_checkpoint,
    predict,
)


@pytest.fixture
def circle():
    x, y = make_circle(n=400, noise=0.05, seed=0)
    return (x[:300], y[:300]), (x[300:], y[300:])


def _net(dropout=0.0):
    layers = [nn.Linear(2, 16), nn.Tanh()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(16, 2))


def test_fit_learns_and_history_has_every_metric_per_epoch(circle):
    train, val = circle
    model = _net()
    history = fit(model, train, val=val, epochs=15, optimizer="sgd", lr=0.1,
                  metrics=["accuracy", "top1"], verbose=0, batch_size=16, seed=0)
    assert history.epoch == list(range(15))
    for key in ("loss", "accuracy", "top1_accuracy", "val_loss", "val_accuracy", "lr"):
        assert len(history.history[key]) == 15, key
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["val_accuracy"][-1] > 0.9
    scores = evaluate(model, val)
    assert scores["accuracy"] == pytest.approx(history.history["val_accuracy"][-1])
    assert predict(model, val[0]).shape == (100, 2)


def test_evaluate_uses_eval_mode_and_no_graph_and_restores_mode(circle):
    seen = []

    class Probe(nn.Module):
        def forward(self, x):
            seen.append((self.training, dn.is_grad_enabled()))
            return x

    model = nn.Sequential(_net(dropout=0.5), Probe())
    trainer = Trainer(model, lr=0.1)
    trainer.fit(circle[0], epochs=1, batch_size=300, verbose=0)
    assert seen == [(True, True)]
    before = dn.random.get_state()
    trainer.evaluate(circle[1])
    assert seen[1:] == [(False, False)]
    assert model.training  # put back in training mode
    assert dn.random.get_state() == before  # evaluation draws nothing from the random stream


def test_l2_is_the_lectures_lambda_over_2_and_spares_the_biases():
    model = nn.Linear(3, 2)
    x, y = np.ones((4, 3), np.float32), np.zeros(4, np.int64)
    w0, b0 = model.weight.numpy().copy(), model.bias.numpy().copy()
    plain = nn.Linear(3, 2)
    plain.load_state_dict(model.state_dict())
    Trainer(plain, optimizer="sgd", lr=1.0, momentum=0).fit((x, y), epochs=1, batch_size=4,
                                                            verbose=0)
    Trainer(model, optimizer="sgd", lr=1.0, momentum=0, l2=0.5).fit((x, y), epochs=1,
                                                                    batch_size=4, verbose=0)
    # Loss' = Loss + (lambda / 2) ||w||^2: w1 = w0 - (g + 0.5 * w0); the bias is not penalised.
    np.testing.assert_allclose(model.weight.numpy(), plain.weight.numpy() - 0.5 * w0,
                               rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(model.bias.numpy(), plain.bias.numpy())
    assert not np.allclose(b0, plain.bias.numpy())


def test_l2_equals_weight_decay_and_the_l2_penalty_of_nn_utils():
    """The same lambda means the same thing in the three places it can be given."""
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    y = np.array([0, 1, 0, 1, 1, 0])
    results = []
    for how in ("l2", "weight_decay", "penalty"):
        dn.manual_seed(0)
        model = nn.Linear(3, 2, bias=False)
        if how == "penalty":
            loss = lambda out, t, m=model: (nn.functional.cross_entropy(out, t)  # noqa: E731
                                            + 0.1 * nn.utils.l2_penalty(m.parameters()))
            trainer = Trainer(model, loss=loss, optimizer="sgd", lr=0.5, momentum=0)
        else:
            trainer = Trainer(model, optimizer="sgd", lr=0.5, momentum=0, **{how: 0.1})
        trainer.fit((x, y), epochs=3, batch_size=6, verbose=0)
        results.append(model.weight.numpy().copy())
    np.testing.assert_allclose(results[0], results[1], rtol=1e-6)
    np.testing.assert_allclose(results[0], results[2], rtol=1e-6)


class _Poison(Callback):
    """Puts a NaN into the second layer's bias at a given global step, as a diverging run would."""

    def __init__(self, at_step):
        self.at_step = at_step

    def on_train_batch_begin(self, batch, logs=None):
        if self.trainer.step == self.at_step:
            self.model[2].bias.data[0] = np.nan


def test_divergence_stops_at_once_naming_step_and_parameter_and_keeps_last_checkpoint(
        circle, tmp_path):
    model = _net()
    trainer = Trainer(model, lr=0.1)
    path = tmp_path / "checkpoint.safetensors"
    with pytest.raises(DivergenceError) as info:
        # 300 samples / 50 = 6 steps an epoch: step 14 is in the third epoch.
        trainer.fit(circle[0], epochs=5, batch_size=50, callbacks=[_Poison(13)], verbose=0,
                    checkpoint=path)
    message = str(info.value)
    assert "epoch 3, step 14" in message and "loss is nan" in message
    assert "'2.bias'" not in message  # the bias is poisoned, but the first bad *gradient* is...
    assert "first parameter with a non-finite gradient: '0.weight'" in message
    assert trainer.step == 13  # the poisoned step was not applied
    assert load_checkpoint(path)["epoch"] == 2  # the last good checkpoint is kept


class _PoisonGradient(Callback):
    """Makes one gradient element infinite after the backward of a given global step, as an
    overflow in the backward would, while the loss stays finite."""

    def __init__(self, at_step):
        self.at_step = at_step

    def on_after_backward(self):
        if self.trainer.step == self.at_step:
            self.model[0].weight.grad.data[0, 0] = np.inf


def test_a_non_finite_gradient_stops_before_the_update_unless_only_the_loss_is_checked(circle):
    model = _net()
    trainer = Trainer(model, lr=0.1)
    with pytest.raises(DivergenceError) as info:
        trainer.fit(circle[0], epochs=2, batch_size=50, callbacks=[_PoisonGradient(3)],
                    verbose=0)
    assert "step 4" in str(info.value) and "the loss is finite" in str(info.value)
    assert "first parameter with a non-finite gradient: '0.weight'" in str(info.value)
    assert trainer.step == 3 and np.isfinite(model[0].weight.numpy()).all()

    model = _net()
    trainer = Trainer(model, lr=0.1, check_gradients=False)
    try:
        trainer.fit(circle[0], epochs=2, batch_size=50, callbacks=[_PoisonGradient(3)],
                    verbose=0)
    except DivergenceError as error:  # a later step's loss, if the infinity reaches it
        assert "the loss is" in str(error) and "the loss is finite" not in str(error)
    assert trainer.step >= 4 and not np.isfinite(model[0].weight.numpy()).all()


def test_per_batch_hooks_reach_the_callbacks_that_implement_them(circle):
    from deepnum.train.metrics import Accuracy

    class Counting(Accuracy):  # counts how often fit asks for the running value
        asked = 0

        def result(self):
            Counting.asked += 1
            return super().result()

    class AtEnd(Callback):
        def __init__(self):
            self.seen = []

        def on_train_batch_end(self, batch, logs=None):
            self.seen.append((batch, sorted(logs)))

    ticks = []
    by_instance = Callback()
    by_instance.on_after_backward = lambda: ticks.append(1)  # a hook set on the instance
    trainer = Trainer(_net(), lr=0.1, metrics=[Counting()])
    trainer.fit(circle[0], epochs=1, batch_size=50, verbose=0, callbacks=[by_instance])
    steps = trainer.step
    assert len(ticks) == steps
    # nobody listens at the batches' ends (the quiet ProgressBar does not): logs built per epoch
    assert Counting.asked == 1
    at_end = AtEnd()
    trainer.fit(circle[0], epochs=2, batch_size=50, verbose=0, callbacks=[at_end])
    assert at_end.seen == [(b, ["accuracy", "loss"]) for b in range(steps)]
    assert Counting.asked == 1 + steps + 1


@pytest.mark.parametrize("flush", [True, False])
def test_fit_flushes_subnormal_numbers_while_it_runs_unless_told_not_to(flush):
    from deepnum.fast import denormals

    if not denormals.supported():
        pytest.skip("needs Numba on an x86 CPU")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 3)).astype(np.float32)
    x[:, 2] = 0  # a blank input: its weights' gradients are exactly 0, as a blank pixel's
    y = (x[:, 0] > 0).astype(np.int64)
    model = nn.Linear(3, 2)
    trainer = Trainer(model, lr=0.1, flush_denormal=flush)
    trainer.fit((x, y), epochs=1, batch_size=16, verbose=0)
    buffer = trainer.optimizer.state[id(model.weight)]["momentum_buffer"]
    buffer[:, 2] = np.float32(1e-39)  # subnormal, as such a buffer becomes after ~800 steps

    class During(Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.flushing = denormals.flushing()

    during = During()
    trainer.fit((x, y), epochs=2, batch_size=16, verbose=0, callbacks=[during])
    assert during.flushing is flush and not denormals.flushing()  # restored after fit
    if flush:  # read as 0: the buffer decays to exactly 0, and multiplies run at full speed
        assert (buffer[:, 2] == 0).all()
    else:  # PyTorch's arithmetic: 1e-39 * 0.9 ** 4, still subnormal
        assert np.allclose(buffer[:, 2], 1e-39 * 0.9**4, rtol=1e-2, atol=0)


def test_early_stopping_stops_and_restores_best_weights(circle):
    class Scripted(Callback):  # feeds a made-up val_loss: best at epoch 1
        values = [1.0, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]

        def on_epoch_end(self, epoch, logs=None):
            logs["val_loss"] = self.values[epoch]
            if epoch == 1:
                self.best = {k: v.clone() for k, v in self.model.state_dict().items()}

    model = _net()
    scripted = Scripted()
    stopper = EarlyStopping("val_loss", patience=2, restore_best_weights=True)
    history = Trainer(model, lr=0.1).fit(circle[0], epochs=7, batch_size=50, verbose=0,
                                         callbacks=[scripted, stopper])
    assert history.epoch == [0, 1, 2, 3]  # 2 epochs of patience after the best, then stop
    assert stopper.best_epoch == 1 and stopper.stopped_epoch == 3
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, scripted.best[key])
    with pytest.raises(ValueError, match="'val_accuracy' is not in the logs"):
        Trainer(_net()).fit(circle[0], epochs=1, verbose=0,
                            callbacks=[EarlyStopping("val_accuracy")])


def test_learning_rate_schedulers_and_functions(circle):
    model = _net()
    trainer = Trainer(model, lr=0.1)
    scheduler = StepLR(trainer.optimizer, step_size=2, gamma=0.5)
    history = trainer.fit(circle[0], epochs=5, verbose=0,
                          callbacks=[LearningRateScheduler(scheduler)])
    assert history.history["lr"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025])
    trainer = Trainer(_net(), lr=0.1)
    history = trainer.fit(circle[0], epochs=3, verbose=0,
                          callbacks=[LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))])
    assert history.history["lr"] == pytest.approx([0.1, 0.05, 0.1 / 3])


def test_csv_logger_and_model_checkpoint_write_files(circle, tmp_path):
    model = _net()
    best = ModelCheckpoint(tmp_path / "best.safetensors", monitor="val_accuracy")
    every = ModelCheckpoint(tmp_path / "m-{epoch}.safetensors", save_best_only=False)
    Trainer(model, lr=0.1).fit(circle[0], val=circle[1], epochs=3, verbose=0,
                               callbacks=[CSVLogger(tmp_path / "h.csv"), best, every])
    lines = (tmp_path / "h.csv").read_text().splitlines()
    assert lines[0] == "epoch,loss,accuracy,val_loss,val_accuracy,lr" and len(lines) == 4
    assert sorted(p.name for p in tmp_path.glob("m-*")) == [f"m-{i}.safetensors" for i in (1, 2, 3)]
    loaded = dn.load(tmp_path / "best.safetensors")
    assert type(loaded) is nn.Sequential


def test_progress_prints_one_line_per_epoch_when_not_a_terminal(circle, capsys):
    Trainer(_net(), lr=0.1).fit(circle[0], epochs=2, verbose="auto")
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[1].startswith("Epoch 2/2") and "loss" in lines[1]
    Trainer(_net(), lr=0.1).fit(circle[0], epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


class _Crash(Callback):
    def __init__(self, at_step):
        self.at_step = at_step

    def on_train_batch_end(self, batch, logs=None):
        if self.trainer.step == self.at_step:
            raise KeyboardInterrupt  # stands in for a kill in the middle of an epoch


def _run(circle, path, epochs, crash_at=None, resume=False):
    dn.manual_seed(1)
    model = _net(dropout=0.3)  # dropout: the random stream must be restored too
    trainer = Trainer(model, optimizer="sgd", lr=0.1)
    loader = DataLoader(TensorDataset(*circle[0]), batch_size=32, shuffle=True)  # seed from dn
    callbacks = [EarlyStopping("val_loss", patience=50, restore_best_weights=True)]
    if crash_at is not None:
        callbacks.append(_Crash(crash_at))
    trainer.fit(loader, val=circle[1], epochs=epochs, callbacks=callbacks, verbose=0,
                checkpoint=path, resume=resume)
    return model, trainer


def test_resume_after_a_crash_mid_epoch_is_bit_identical(circle, tmp_path):
    reference, ref_trainer = _run(circle, tmp_path / "a.safetensors", epochs=6)
    with pytest.raises(KeyboardInterrupt):
        # 10 steps an epoch: step 35 is in epoch 4 of 6
        _run(circle, tmp_path / "b.safetensors", epochs=6, crash_at=35)
    assert load_checkpoint(tmp_path / "b.safetensors")["epoch"] == 3
    resumed, trainer = _run(circle, tmp_path / "b.safetensors", epochs=6, resume=True)
    for key, value in reference.state_dict().items():
        np.testing.assert_array_equal(resumed.state_dict()[key], value, err_msg=key)
    assert trainer.history.history == ref_trainer.history.history
    assert trainer.step == ref_trainer.step


def test_progress_bar_with_rich_shows_epoch_and_metrics(circle):
    import io

    from deepnum.train import ProgressBar

    stream = io.StringIO()
    trainer = Trainer(_net(), lr=0.1)
    # A ProgressBar given as a callback replaces nothing: fit adds its own (here quiet).
    trainer.fit(circle[0], epochs=2, verbose=0, callbacks=[ProgressBar(verbose=1, stream=stream)])
    text = stream.getvalue()
    assert "Epoch 1/2" in text and "Epoch 2/2" in text and "accuracy" in text


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf, None])
@pytest.mark.parametrize("where", [0, 2])
def test_first_non_finite_grad_agrees_with_isfinite_all(bad, where):
    from types import SimpleNamespace

    from deepnum.train.trainer import _first_non_finite_grad

    rng = np.random.default_rng(0)
    params = [SimpleNamespace(grad=dn.tensor(rng.standard_normal(shape).astype(np.float32)))
              for shape in [(7, 5), (5,), (3, 4)]]
    params.insert(1, SimpleNamespace(grad=None))  # a frozen or unused parameter
    params[3].grad.array[1, 1] = 1e30  # its square overflows float32: the sum alone would cry wolf
    if bad is not None:
        params[where].grad.array.reshape(-1)[4] = bad
    expected = None if bad is None else params[where]
    assert _first_non_finite_grad(params) is expected


@pytest.mark.parametrize("monitor, values", [("val_loss", [1.0, 0.95, 0.92, 0.91]),
                                             ("val_accuracy", [0.5, 0.55, 0.58, 0.59])])
def test_early_stopping_counts_only_improvements_larger_than_min_delta(monitor, values):
    # issue 12 named a branch that ignored min_delta: both directions need a step > min_delta
    from types import SimpleNamespace

    stop = EarlyStopping(monitor=monitor, min_delta=0.1, patience=2)
    trainer = SimpleNamespace(model=None, stop_training=False)
    stop.trainer, stop.model = trainer, None
    for epoch, value in enumerate(values):
        stop.on_epoch_end(epoch, {monitor: value})
        if trainer.stop_training:
            break
    assert stop.best == values[0] and stop.best_epoch == 0  # no later step beat it by 0.1
    assert trainer.stop_training and stop.stopped_epoch == 2
    keen = EarlyStopping(monitor=monitor, min_delta=0.0, patience=2)
    keen.trainer, keen.model = SimpleNamespace(stop_training=False), None
    for epoch, value in enumerate(values):
        keen.on_epoch_end(epoch, {monitor: value})
    assert keen.best == values[-1] and not keen.trainer.stop_training
