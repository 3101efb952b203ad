"""Turn any picture of a digit into a model input, the way the training digits were made.

MNIST (LeCun et al.): grayscale, white digit on black; the digit's bounding box scaled to fit 20x20
keeping its aspect ratio, then placed in a 28x28 field so that its centre of mass is at the centre.
The 8x8 digits (UCI optdigits, bundled with scikit-learn): the digit's box scaled to fit 32x32,
thresholded to black and white, and each 4x4 block counted (0..16), which we scale to [0, 1].

>>> x = prepare_digit(Image.open("three.png"), size=28)     # float32 (1, 28, 28) in [0, 1]
>>> x = prepare_digit(np_array_of_any_size, size=8)         # the 8x8 digits' convention

An image file may come from anyone: :func:`open_image` decodes only common raster formats (never
EPS, which Pillow hands to Ghostscript), refuses more than ``max_pixels`` pixels (40 million by
default) from the header, before decoding, turns Pillow's own decompression-bomb warning into that
refusal too, and shrinks what it decoded to at most 1024 pixels a side before any float array is
made. Whatever goes wrong is a :class:`DataError` naming the file.
"""

from __future__ import annotations

import warnings

import numpy as np

from deepnum.errors import DataError


def _grayscale(image) -> np.ndarray:
    """Any PIL image or array as float64 luminance in [0, 1], transparent pixels as background."""

    if isinstance(image, np.ndarray):
        array = image.astype(np.float64)
        if array.ndim == 3:
            array = array[..., :3].mean(axis=2) if array.shape[2] >= 3 else array[..., 0]
        if array.max(initial=0) > 1:
            array = array / 255.0
        return array
    if image.mode in ("RGBA", "LA", "P"):
        alpha = np.asarray(image.convert("RGBA"))[..., 3]
        if alpha.min() < 255:
            # Strokes drawn on a transparent canvas: the alpha channel is the digit, whatever
            # colour the strokes are. Returned as dark ink on a light page.
            return 1.0 - alpha.astype(np.float64) / 255.0
    return np.asarray(image.convert("L"), dtype=np.float64) / 255.0


def _ink(image) -> np.ndarray:
    """Ink intensity in [0, 1]: white-on-black, inverting a light background."""
    gray = _grayscale(image)
    if gray.ndim != 2 or gray.size == 0:
        raise DataError(f"expected a 2-D image, got an array of shape {gray.shape}")
    border = np.concatenate([gray[0], gray[-1], gray[:, 0], gray[:, -1]])
    ink = 1.0 - gray if np.median(border) > 0.5 else gray
    return np.clip(ink, 0.0, 1.0)


def _crop(ink: np.ndarray) -> np.ndarray:
    rows = np.flatnonzero(ink.max(axis=1) > 0.1)
    cols = np.flatnonzero(ink.max(axis=0) > 0.1)
    if len(rows) == 0:
        raise DataError("the image is blank: no digit found")
    return ink[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1]


def _fit(ink: np.ndarray, box: int) -> np.ndarray:
    """Scale so the longer side is ``box`` pixels, keeping the aspect ratio."""
    from PIL import Image

    h, w = ink.shape
    scale = box / max(h, w)
    size = (max(1, round(w * scale)), max(1, round(h * scale)))
    resized = Image.fromarray((ink * 255).astype(np.uint8)).resize(size, Image.LANCZOS)
    return np.asarray(resized, dtype=np.float64) / 255.0


def _mnist(ink: np.ndarray) -> np.ndarray:
    digit = _fit(_crop(ink), 20)
    h, w = digit.shape
    total = digit.sum()
    cy = (digit.sum(axis=1) @ np.arange(h)) / total if total else (h - 1) / 2
    cx = (digit.sum(axis=0) @ np.arange(w)) / total if total else (w - 1) / 2
    top = int(round(13.5 - cy))  # put the centre of mass at the field's centre (13.5, 13.5)
    left = int(round(13.5 - cx))
    top, left = min(max(top, 0), 28 - h), min(max(left, 0), 28 - w)
    field = np.zeros((28, 28))
    field[top:top + h, left:left + w] = digit
    return field


def _optdigits(ink: np.ndarray) -> np.ndarray:
    digit = _fit(_crop(ink), 32) > 0.5
    h, w = digit.shape
    field = np.zeros((32, 32))
    top, left = (32 - h) // 2, (32 - w) // 2
    field[top:top + h, left:left + w] = digit
    return field.reshape(8, 4, 8, 4).sum(axis=(1, 3)) / 16.0


MAX_PIXELS = 40_000_000  # an 8000x5000 photo; Pillow's own bomb warning starts at 89 million
MAX_SIDE = 1024  # decoded images are shrunk to this before becoming float arrays
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM", "ICO")


def open_image(path, max_pixels: int = MAX_PIXELS):
    """The image in the file ``path``, decoded within bounds (see the module's docstring), at
    most :data:`MAX_SIDE` pixels a side; any failure is a :class:`DataError` naming the file.

    >>> image = open_image("three.png")     # a PIL image
    """
    from PIL import Image, UnidentifiedImageError

    try:
        with warnings.catch_warnings():
            # Pillow warns past Image.MAX_IMAGE_PIXELS and raises past twice that: both refuse.
            # Its other warnings (a truncated TIFF tag, corrupt EXIF) say the file is damaged:
            # it decodes anyway or raises below, and the terminal stays clean either way.
            warnings.simplefilter("ignore")
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path, formats=FORMATS) as opened:
                width, height = opened.size  # from the header: nothing is decoded yet
                if width * height > max_pixels:
                    raise DataError(f"{path}: {width:,}x{height:,} pixels, more than the limit "
                                    f"of {max_pixels:,} (open_image's max_pixels); refusing to "
                                    f"decode it")
                opened.load()
                return _shrink(opened)
    except DataError:
        raise
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a directory, not an image") from None
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as error:
        raise DataError(f"{path}: refused as a decompression bomb ({error}); deepnum decodes at "
                        f"most {max_pixels:,} pixels") from None
    except UnidentifiedImageError:
        raise DataError(f"{path}: not a readable image (not in a format deepnum reads: "
                        f"{', '.join(FORMATS)})") from None
    except Exception as error:  # noqa: BLE001 - a decoder failing on a bad file: the file's fault
        # Pillow's plugins raise OSError, ValueError, SyntaxError, struct.error, EOFError... for
        # damaged files; none of them is a bug of the caller's.
        raise DataError(f"{path}: not a readable image ({type(error).__name__}: "
                        f"{str(error)[:120]})") from None


def _shrink(image):
    """A copy of the (loaded) image at most MAX_SIDE pixels a side, in a mode _grayscale reads."""
    from PIL import Image

    if image.mode not in ("L", "RGB", "RGBA", "LA", "P"):
        image = image.convert("RGBA" if "A" in image.getbands() else "L")
    if max(image.size) <= MAX_SIDE:
        return image.copy()
    if image.mode == "P":
        image = image.convert("RGBA")
    image = image.copy()
    image.thumbnail((MAX_SIDE, MAX_SIDE), Image.LANCZOS)
    return image


def prepare_digit(image, size: int = 28, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """A float32 (1, size, size) array in [0, 1] for ``size`` 28 (MNIST) or 8 (the 8x8 digits).

    ``image`` is a PIL image, an array, or a path to an image file (read by :func:`open_image`
    within ``max_pixels``).
    """
    from PIL import Image

    if size not in (8, 28):
        raise DataError(f"prepare_digit: size must be 28 (MNIST) or 8 (digits), got {size}")
    source = None
    if not isinstance(image, (np.ndarray, Image.Image)):
        source, image = image, open_image(image, max_pixels)
    try:
        ink = _ink(image)
        out = _mnist(ink) if size == 28 else _optdigits(ink)
    except DataError as error:
        if source is None:
            raise
        raise DataError(f"{source}: {error}") from None
    return out.astype(np.float32)[None]
