"""Utilities shaped like ``torch.utils``: ``hooks`` (handles) and ``data`` (datasets, samplers,
the DataLoader)."""
