"""DistributedDataParallel: the same model on every rank, gradients averaged after backward.

At construction the parameters and buffers of rank 0 are sent to every rank, so all start
equal. The parameters are split into buckets of about ``bucket_cap_mb`` (in reverse order, the
order backward finishes them in); as soon as backward has added the last gradient of a bucket
(a post-accumulate-grad hook), the bucket's average over the ranks starts without waiting
(deepnum.distributed.RankOrderAllReduce: non-blocking, a ring's bandwidth, summed in rank order
so the result is deterministic), while backward goes on with the layers below. When the last
bucket is in, every average is written back into the ``.grad`` of its parameters, before
``backward()`` returns: the optimizer sees the average.

As in PyTorch, ``no_sync()`` accumulates gradients locally (for gradient accumulation), and a
parameter that got no gradient in a step is an error at the next forward naming it (PyTorch's
``find_unused_parameters=False``). BatchNorm statistics are per rank (rank 0's buffers are
broadcast before each forward, as PyTorch's ``broadcast_buffers=True``).

>>> model = nn.parallel.DistributedDataParallel(model)
>>> loss = loss_fn(model(x), y); loss.backward(); opt.step()    # gradients averaged
"""

from __future__ import annotations

import contextlib
import time

import numpy as np

from deepnum import distributed as dist
from deepnum.nn.module import Module
from deepnum.tensor import Tensor


class _Bucket:
    def __init__(self, params):
        self.params, self.done = params, set()  # ids of the parameters whose grad is in
        self.reduction = None


class DistributedDataParallel(Module):
    def __init__(self, module: Module, device_ids=None, output_device=None, dim: int = 0,
                 broadcast_buffers: bool = True, bucket_cap_mb: float = 25,
                 find_unused_parameters: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False):
        super().__init__()
        if not dist.is_initialized():
            dist.init()
        self.module = module
        object.__setattr__(self, "broadcast_buffers", bool(broadcast_buffers))
        object.__setattr__(self, "find_unused_parameters", bool(find_unused_parameters))
        object.__setattr__(self, "_sync", True)
        object.__setattr__(self, "_reducing", False)
        object.__setattr__(self, "comm_seconds", 0.0)  # waiting for gradients, per step
        object.__setattr__(self, "comm_bytes", 0)
        for _, t in module.named_state():
            dist.broadcast(t, src=0)
        params = [p for p in module.parameters() if p.requires_grad]
        names = {id(p): n for n, p in module.named_parameters()}
        object.__setattr__(self, "_names", names)
        object.__setattr__(self, "_buckets", self._make_buckets(params, bucket_cap_mb))
        object.__setattr__(self, "_bucket_of", {id(p): b for b in self._buckets
                                                for p in b.params})
        if dist.get_world_size() > 1:
            for p in params:
                p.register_post_accumulate_grad_hook(self._ready)

    @staticmethod
    def _make_buckets(params, cap_mb):
        cap = cap_mb * 2**20
        buckets, current, size = [], [], 0
        for p in reversed(params):
            if current and (size + p.array.nbytes > cap
                            or p.array.dtype != current[0].array.dtype):
                buckets.append(_Bucket(current))
                current, size = [], 0
            current.append(p)
            size += p.array.nbytes
        if current:
            buckets.append(_Bucket(current))
        return buckets

    def forward(self, *args, **kwargs):
        if dist.get_world_size() > 1:
            self._check_finished()
            if self.broadcast_buffers and self.training:
                for _, b in self.module.named_buffers():
                    dist.broadcast(b, src=0)
            object.__setattr__(self, "_reducing", self._sync and self.training)
        return self.module(*args, **kwargs)

    def _check_finished(self) -> None:
        """Every bucket of the last synchronised step must have been reduced."""
        if not self._reducing:
            return
        unused = [self._names.get(id(p), "?") for b in self._buckets for p in b.params
                  if id(p) not in b.done]
        for bucket in self._buckets:
            bucket.done = set()
        if unused and not self.find_unused_parameters:
            raise RuntimeError(
                "Expected to have finished reduction in the prior iteration before starting a "
                "new one. This error indicates that your module has parameters that were not "
                f"used in producing loss: {', '.join(unused)}. Make sure every parameter takes "
                "part in the loss (or pass find_unused_parameters=True)")

    def _ready(self, p) -> None:
        """A parameter's gradient is complete: start its bucket once the bucket is full."""
        if not self._reducing:
            return
        bucket = self._bucket_of[id(p)]
        bucket.done.add(id(p))
        if len(bucket.done) == len(bucket.params):
            self._start(bucket)
            if all(len(b.done) == len(b.params) for b in self._buckets):
                self._finish()

    def _start(self, bucket) -> None:
        flat = np.concatenate([q.grad.array.reshape(-1) for q in bucket.params])
        bucket.reduction = dist.RankOrderAllReduce(flat, dist.ReduceOp.MEAN)
        object.__setattr__(self, "comm_bytes", self.comm_bytes + bucket.reduction.nbytes)
        for other in self._buckets:  # move earlier buckets on to their second phase
            if other.reduction is not None:
                other.reduction.progress()

    def _finish(self) -> None:
        self._write_averages(self._buckets)

    def _write_averages(self, buckets) -> None:
        start = time.perf_counter()
        averages = [bucket.reduction.wait() for bucket in buckets]
        object.__setattr__(self, "comm_seconds", self.comm_seconds + time.perf_counter() - start)
        for bucket, average in zip(buckets, averages):
            offset = 0
            for q in bucket.params:
                n = q.array.size
                q.grad = Tensor._wrap(average[offset:offset + n].reshape(q.array.shape))
                offset += n
            bucket.reduction = None

    def average_now(self) -> None:
        """Average every parameter's gradient over the ranks at once (a step whose backward
        ran without hooks, e.g. the captured step)."""
        if dist.get_world_size() == 1:
            return
        for bucket in self._buckets:
            if all(q.grad is not None for q in bucket.params):
                self._start(bucket)
        self._write_averages([b for b in self._buckets if b.reduction is not None])

    @contextlib.contextmanager
    def no_sync(self):
        """Gradients accumulate locally inside the block; the next synchronised backward
        averages the accumulated gradients (PyTorch's gradient accumulation)."""
        before = self._sync
        object.__setattr__(self, "_sync", False)
        try:
            yield
        finally:
            object.__setattr__(self, "_sync", before)

    def extra_repr(self) -> str:
        return f"world_size={dist.get_world_size()}, buckets={len(self._buckets)}"
