"""Training: the Keras-style loop, callbacks, metrics, checkpoints, model summaries and plots.

>>> from deepnum.train import Trainer, EarlyStopping
>>> trainer = Trainer(model, loss="cross_entropy", optimizer="sgd", lr=0.05)
>>> history = trainer.fit((x, y), val=(xv, yv), epochs=20, callbacks=[EarlyStopping(patience=3)])
"""

from deepnum.train.callbacks import (
    Callback,
    CallbackList,
    CSVLogger,
    EarlyStopping,
    History,
    LearningRateScheduler,
    ModelCheckpoint,
)
from deepnum.train.checkpoint import load_checkpoint, save_checkpoint
from deepnum.train.gradient_stats import GradientStats
from deepnum.train.losses import LOSSES, get_loss, multiclass_hinge_loss, perceptron_loss
from deepnum.train.metrics import (
    Accuracy,
    MeanAbsoluteError,
    MeanSquaredError,
    Metric,
    TopKAccuracy,
    accuracy,
    classification_report,
    confusion_matrix,
    get_metric,
    mean_absolute_error,
    mean_squared_error,
    precision_recall_f1,
    top_k_accuracy,
)
from deepnum.train.progress import ProgressBar
from deepnum.train.summary import ModelSummary, summary
from deepnum.train.tensorboard import TensorBoard
from deepnum.train.trace import BackpropTrace, backprop_trace
from deepnum.train.trainer import Trainer, build_optimizer, evaluate, fit, predict

__all__ = [
    "LOSSES",
    "Accuracy",
    "BackpropTrace",
    "CSVLogger",
    "Callback",
    "CallbackList",
    "EarlyStopping",
    "GradientStats",
    "History",
    "LearningRateScheduler",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "Metric",
    "ModelCheckpoint",
    "ModelSummary",
    "ProgressBar",
    "TensorBoard",
    "TopKAccuracy",
    "Trainer",
    "accuracy",
    "backprop_trace",
    "build_optimizer",
    "classification_report",
    "confusion_matrix",
    "evaluate",
    "fit",
    "get_loss",
    "get_metric",
    "multiclass_hinge_loss",
    "load_checkpoint",
    "mean_absolute_error",
    "mean_squared_error",
    "perceptron_loss",
    "precision_recall_f1",
    "predict",
    "save_checkpoint",
    "summary",
    "top_k_accuracy",
]
