"""The DataLoader: one implementation, :class:`deepnum.utils.data.DataLoader` (PyTorch's
arguments and semantics, worker processes, and the state_dict the Trainer resumes from).

>>> from deepnum.data import DataLoader, TensorDataset
>>> loader = DataLoader(TensorDataset(x, y), batch_size=64, shuffle=True, seed=0)
"""

from deepnum.utils.data.loader import DataLoader  # noqa: F401 - re-exported
