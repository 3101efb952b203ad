"""Utilities shaped like ``torch.utils``: ``hooks`` (handles) and, in time, ``data``."""
