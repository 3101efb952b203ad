"""The two-dimensional toy data sets of the TensorFlow Playground (playground.tensorflow.org).

The generators follow the Playground's ``dataset.ts``: the same shapes, radii, label rules and noise
model, with labels 0..k-1 instead of -1/+1 (class 1 is the Playground's positive, blue class).
``spiral`` and ``gauss`` also come with any number of classes (arms or clusters spread evenly around
the origin); ``circle`` and ``xor`` are two-class by nature. ``plane`` and ``multi-gauss`` are
regression sets with float targets in about [-1, 1].

``noise`` is a fraction: the Playground's noise slider divided by 100, so its range 0..50 is
0.0..0.5 here (values up to 1 are accepted). As in the Playground, ``circle``, ``xor``, ``plane``
and ``multi-gauss`` add the noise to the point used to compute the label (so labels near the
boundary flip), while ``gauss`` and ``spiral`` move the points themselves.

Points lie in the Playground's square [-6, 6]^2 (the rare ``gauss`` point beyond it is clipped to
the edge), come out shuffled, and depend only on ``seed``, never on deepnum's global random stream.

>>> x, y = make_spiral(n=300, noise=0.1, seed=0, num_classes=3)
>>> x.shape, x.dtype, np.bincount(y)   # ((300, 2), float32, [100 100 100])
"""

from __future__ import annotations

import numpy as np

from deepnum.errors import DataError

RADIUS = 6.0  # half the side of the Playground's square


def make_circle(n: int = 500, noise: float = 0.0, seed: int = 0, num_classes: int = 2):
    """A disc of radius 2.5 (class 1) inside a ring of radii 3.5..5 (class 0).

    >>> x, y = make_circle(200, noise=0.1)
    >>> np.hypot(*x[y == 1].T).max() <= 2.5   # True when noise=0
    """
    rng = _start("circle", n, noise, seed, num_classes, max_classes=2)
    inside, outside = _class_sizes(n, 2)
    r = np.concatenate([rng.uniform(0, 2.5, inside), rng.uniform(3.5, 5, outside)])
    angle = rng.uniform(0, 2 * np.pi, n)
    x = np.stack([r * np.sin(angle), r * np.cos(angle)], axis=1)
    moved = x + rng.uniform(-5, 5, (n, 2)) * noise
    y = (np.hypot(moved[:, 0], moved[:, 1]) < 2.5).astype(np.int64)
    return _finish(rng, x, y)


def make_xor(n: int = 500, noise: float = 0.0, seed: int = 0, num_classes: int = 2):
    """Four squares: class 1 where x and y have the same sign, with a 0.3 gap along the axes.

    >>> x, y = make_xor(400)
    >>> bool(np.all((x[:, 0] * x[:, 1] >= 0) == (y == 1)))   # True when noise=0
    """
    rng = _start("xor", n, noise, seed, num_classes, max_classes=2)
    x = rng.uniform(-5, 5, (n, 2))
    x += np.where(x > 0, 0.3, -0.3)  # the gap keeps noise-free classes apart
    moved = x + rng.uniform(-5, 5, (n, 2)) * noise
    y = (moved[:, 0] * moved[:, 1] >= 0).astype(np.int64)
    return _finish(rng, x, y)


def make_gauss(n: int = 500, noise: float = 0.0, seed: int = 0, num_classes: int = 2):
    """Gaussian clusters; two classes sit at (-2, -2) and (2, 2), k classes evenly on that circle.

    The variance grows with noise from 0.5 to 4 over the Playground's range 0..0.5.

    >>> x, y = make_gauss(200, num_classes=4)
    >>> np.bincount(y)   # [50 50 50 50]
    """
    rng = _start("gauss", n, noise, seed, num_classes)
    variance = 0.5 + noise / 0.5 * 3.5
    sizes = _class_sizes(n, num_classes)
    y = np.repeat(np.arange(num_classes), sizes)
    # Class j at angle 225 deg + j * 360/k; for k = 2 these are the Playground's two centres.
    angle = 1.25 * np.pi + 2 * np.pi * y / num_classes
    centres = 2 * np.sqrt(2) * np.stack([np.cos(angle), np.sin(angle)], axis=1)
    x = centres + rng.normal(0, np.sqrt(variance), (n, 2))
    return _finish(rng, x, y)


def make_spiral(n: int = 500, noise: float = 0.0, seed: int = 0, num_classes: int = 2):
    """Interleaved spirals of radius 5 and 1.75 turns, one arm per class.

    >>> x, y = make_spiral(300, num_classes=3)
    >>> np.bincount(y)   # [100 100 100]
    """
    rng = _start("spiral", n, noise, seed, num_classes)
    arms = []
    for label, size in enumerate(_class_sizes(n, num_classes)):
        step = np.arange(size) / max(size, 1)
        r = 5 * step
        # The Playground's arms start at angles 0 (class 1) and pi (class 0).
        t = 1.75 * 2 * np.pi * step + np.pi + 2 * np.pi * label / num_classes
        arms.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
    x = np.concatenate(arms) + rng.uniform(-1, 1, (n, 2)) * noise
    y = np.repeat(np.arange(num_classes), _class_sizes(n, num_classes))
    return _finish(rng, x, y)


def make_plane(n: int = 1200, noise: float = 0.0, seed: int = 0):
    """Regression: the target is (x + y) / 10, a tilted plane, about -1.2..1.2.

    >>> x, y = make_plane(100)
    >>> np.allclose(y, x.sum(axis=1) / 10)   # True when noise=0
    """
    rng = _start("plane", n, noise, seed, num_classes=None)
    x = rng.uniform(-RADIUS, RADIUS, (n, 2))
    moved = x + rng.uniform(-RADIUS, RADIUS, (n, 2)) * noise
    return _finish(rng, x, moved.sum(axis=1) / 10)


# (centre x, centre y, sign) of the six bumps of the Playground's "multi-gauss" regression set.
_BUMPS = np.array(
    [[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1], [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]]
)


def make_multi_gauss(n: int = 1200, noise: float = 0.0, seed: int = 0):
    """Regression: six cone-shaped bumps of height +1 or -1 and radius 2 on a 3x2 grid.

    >>> x, y = make_multi_gauss(100)
    >>> y.min() >= -1 and y.max() <= 1   # True
    """
    rng = _start("multi-gauss", n, noise, seed, num_classes=None)
    x = rng.uniform(-RADIUS, RADIUS, (n, 2))
    moved = x + rng.uniform(-RADIUS, RADIUS, (n, 2)) * noise
    distance = np.linalg.norm(moved[:, None, :] - _BUMPS[None, :, :2], axis=2)  # (n, 6)
    heights = _BUMPS[:, 2] * np.clip(1 - distance / 2, 0, 1)
    # Each point takes the bump that is largest in absolute value, as in the Playground.
    y = np.take_along_axis(heights, np.abs(heights).argmax(axis=1)[:, None], axis=1)[:, 0]
    return _finish(rng, x, y)


TOY_DATASETS = {
    "circle": make_circle,
    "xor": make_xor,
    "gauss": make_gauss,
    "spiral": make_spiral,
    "plane": make_plane,
    "multi-gauss": make_multi_gauss,
}
REGRESSION = frozenset({"plane", "multi-gauss"})


def _start(name, n, noise, seed, num_classes, max_classes=None) -> np.random.Generator:
    """Validate the common arguments and return the data set's own generator."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise DataError(f"{name}: n must be a positive integer, got {n!r}")
    if not 0 <= noise <= 1:
        raise DataError(
            f"{name}: noise must be a fraction in [0, 1] (the Playground's slider value / 100, "
            f"so its 25 is 0.25), got {noise!r}"
        )
    if num_classes is not None:
        if max_classes is not None and num_classes != max_classes:
            raise DataError(f"{name}: has exactly {max_classes} classes, got {num_classes}")
        if not isinstance(num_classes, (int, np.integer)) or not 2 <= num_classes <= n:
            raise DataError(f"{name}: num_classes must be an integer in [2, n], got {num_classes}")
    return np.random.Generator(np.random.PCG64(seed))


def _class_sizes(n: int, k: int) -> list[int]:
    """Split ``n`` samples into ``k`` classes as evenly as possible (first classes get the rest)."""
    return [n // k + (j < n % k) for j in range(k)]


def _finish(rng, x, y):
    """Clip to the Playground's square, shuffle, and cast to the documented dtypes."""
    order = rng.permutation(len(x))
    x = np.clip(x[order], -RADIUS, RADIUS).astype(np.float32)
    y = y[order]
    return x, (y.astype(np.int64) if y.dtype.kind in "iub" else y.astype(np.float32))
