"""TensorBoard: Keras' callback, writing event files that ``tensorboard --logdir`` shows.

As in Keras, ``log_dir/train`` and ``log_dir/validation`` each get an event file, so a training
value and its validation twin share one chart: ``epoch_loss``, ``epoch_accuracy`` (every logged
metric), ``epoch_learning_rate``; with ``update_freq="batch"`` (or every N batches) also
``batch_loss``... at the optimizer step. Every ``histogram_freq`` epochs, the histogram of each
parameter and of its gradient (the epoch's last step). With ``input_shape``, the model's graph:
each module a node named by its path, edges where one module's output is the next one's input
(recorded with forward hooks on one forward pass of zeros, as ``summary`` does).

Needs tensorboardX (``pip install "deepnum[tensorboard]"``); ``import deepnum`` never imports it.

>>> trainer.fit(train, val=val, epochs=20, callbacks=[TensorBoard("runs/a/tensorboard")])
>>> # then: tensorboard --logdir runs/a/tensorboard
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from deepnum.errors import DeepnumError
from deepnum.train.callbacks import Callback


class TensorBoardUnavailable(DeepnumError, ImportError):
    """The TensorBoard callback was asked for, but tensorboardX is not installed."""


def _summary_writer():
    try:
        from tensorboardX import SummaryWriter
    except ImportError:
        raise TensorBoardUnavailable("the TensorBoard callback needs tensorboardX: "
                                     "pip install 'deepnum[tensorboard]'") from None
    return SummaryWriter


class TensorBoard(Callback):
    """Write loss/metric curves, the learning rate, histograms and the graph for TensorBoard.

    ``histogram_freq``: every how many epochs to write weight and gradient histograms (0: never).
    ``update_freq``: ``"epoch"``, ``"batch"``, or an integer N (every N batches) for the
    ``batch_*`` curves. ``input_shape``: one sample's shape, to write the model's graph.
    """

    def __init__(self, log_dir="logs", histogram_freq: int = 1, update_freq="epoch",
                 input_shape=None, write_graph: bool = True):
        if histogram_freq < 0:
            raise ValueError(f"TensorBoard: histogram_freq must be >= 0, got {histogram_freq}")
        if update_freq not in ("epoch", "batch") and not (isinstance(update_freq, int)
                                                          and update_freq > 0):
            raise ValueError(f"TensorBoard: update_freq must be 'epoch', 'batch' or a positive "
                             f"integer, got {update_freq!r}")
        self._writer_class = _summary_writer()  # fail before training, not after an epoch
        self.log_dir = Path(log_dir)
        self.histogram_freq, self.write_graph = int(histogram_freq), write_graph
        self.update_freq = 1 if update_freq == "batch" else update_freq
        self.input_shape = None if input_shape is None else tuple(int(d) for d in input_shape)
        self.writers: dict = {}

    def _writer(self, run: str):
        if run not in self.writers:
            self.writers[run] = self._writer_class(str(self.log_dir / run))
        return self.writers[run]

    def on_train_begin(self, logs=None):
        if self.write_graph and self.input_shape is not None and self.trainer.epoch == 0:
            # _get_file_writer is how tensorboardX itself adds a prebuilt GraphDef (its
            # add_onnx_graph does the same); its public add_graph traces PyTorch models only
            graph = model_graph(self.model, self.input_shape)
            self._writer("train")._get_file_writer().add_onnx_graph(graph)

    def on_train_batch_end(self, batch, logs=None):
        if self.update_freq == "epoch" or (batch + 1) % self.update_freq:
            return
        for key, value in (logs or {}).items():
            self._writer("train").add_scalar(f"batch_{key}", float(value), self.trainer.step)

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            run, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            name = "learning_rate" if name == "lr" else name
            self._writer(run).add_scalar(f"epoch_{name}", float(value), epoch)
        if self.histogram_freq and (epoch + 1) % self.histogram_freq == 0:
            writer = self._writer("train")
            for name, p in self.model.named_parameters():
                writer.add_histogram(name, p.array, epoch)
                if p.grad is not None:
                    writer.add_histogram(f"{name}/gradient", p.grad.array, epoch)
        for writer in self.writers.values():
            writer.flush()

    def on_train_end(self, logs=None):
        for writer in self.writers.values():
            writer.close()
        self.writers = {}


def model_graph(model, input_shape, dtype=np.float32):
    """A TensorBoard GraphDef of ``model``: one node per module call, in forward order."""
    from tensorboardX.proto.attr_value_pb2 import AttrValue
    from tensorboardX.proto.graph_pb2 import GraphDef
    from tensorboardX.proto.node_def_pb2 import NodeDef
    from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto
    from tensorboardX.proto.versions_pb2 import VersionDef

    from deepnum.autograd import no_grad
    from deepnum.tensor import Tensor

    root = type(model).__name__
    names = {id(m): n for n, m in model.named_modules()}
    produced: dict[int, str] = {}  # id(output tensor) -> node name
    keep: list = []  # outputs stay alive, so no id is reused during the pass
    nodes = []

    def shape_attr(t):
        dims = [TensorShapeProto.Dim(size=int(d)) for d in t.shape]
        return AttrValue(list=AttrValue.ListValue(shape=[TensorShapeProto(dim=dims)]))

    def record(module, args, output):
        if module._modules:  # containers: their children are the nodes
            return None
        path = names[id(module)]
        node = f"{root}/{path.replace('.', '/')}" if path else root
        inputs = [produced.get(id(a), "input") for a in args if isinstance(a, Tensor)]
        attrs = {"attr": AttrValue(s=repr(module).encode())}
        if isinstance(output, Tensor):
            attrs["_output_shapes"] = shape_attr(output)
            produced[id(output)] = node
            keep.append(output)
        nodes.append(NodeDef(name=node, op=type(module).__name__, input=inputs, attr=attrs))
        return None

    x = Tensor._wrap(np.zeros((1, *input_shape), dtype=dtype))
    handles = [m.register_forward_hook(record) for m in model.modules()]
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            out = model(x)
    finally:
        for handle in handles:
            handle.remove()
        model.train(was_training)
    head = [NodeDef(name="input", op="IO Node", attr={"_output_shapes": shape_attr(x)})]
    tail = [NodeDef(name="output", op="IO Node", input=[produced.get(id(out), "input")])]
    return GraphDef(node=head + nodes + tail, versions=VersionDef(producer=22))


__all__ = ["TensorBoard", "TensorBoardUnavailable", "model_graph"]
