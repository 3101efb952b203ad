"""``torch.utils.data.distributed``'s place for DistributedSampler (defined in sampler.py)."""

from deepnum.utils.data.sampler import DistributedSampler

__all__ = ["DistributedSampler"]
