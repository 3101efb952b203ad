"""``torch.backends`` flags that programs set (``cudnn.benchmark``, ``cudnn.deterministic``)
and ask (``mps.is_available()``): accepted, and without effect on the CPU."""

from deepnum.backends import cudnn, mps  # noqa: F401
