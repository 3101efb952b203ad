"""The exceptions deepnum raises on purpose.

Everything a user can get wrong (a corrupt file, a missing data set, a shape that does not fit)
raises a subclass of :class:`DeepnumError`, so a caller (the CLI, the Playground) can catch the
whole family and print one readable line instead of a traceback.
"""


class DeepnumError(Exception):
    """Base class of every error deepnum raises about the user's input or files."""


class DataError(DeepnumError):
    """A data set is missing, or a data file is corrupt or not what it claims to be."""


class ModelFileError(DeepnumError):
    """A model or checkpoint file is missing, truncated, tampered with or of the wrong kind."""


class ShapeError(DeepnumError, ValueError):
    """An input's shape does not fit the layer or op it is given to (a ValueError, as in NumPy)."""


class DivergenceError(DeepnumError, FloatingPointError):
    """Training produced a non-finite loss or gradient."""


class ConfigError(DeepnumError, ValueError):
    """A command-line option or a run's setting is out of range, inconsistent or unknown."""


class StateDictError(DeepnumError, RuntimeError, ValueError):
    """A state dict does not fit the module it is loaded into (missing or unexpected keys, wrong
    shapes): PyTorch's RuntimeError, and a ValueError like deepnum's other bad-input errors."""


class LinAlgError(DeepnumError, RuntimeError):
    """A matrix is singular or not positive-definite where the operation needs it to be:
    ``torch.linalg.LinAlgError``, a RuntimeError (exposed as ``deepnum.linalg.LinAlgError``)."""
