"""Images a user hands to ``deepnum predict``: a decompression bomb (a 20000x20000 PNG) and
mutated files in every format Pillow reads for deepnum either give a digit's input or a
DataError naming the file, within a bounded memory, and never anything else."""

import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from deepnum.errors import DataError
from deepnum.train.images import FORMATS, open_image, prepare_digit
from tests.fuzz import cases
from tests.fuzz._bounds import PeakBound, log_case, time_limit
from tests.fuzz.mutate import png, png_mutant, raw_mutant


def _digit(fmt: str) -> bytes:
    page = np.full((40, 32), 255, np.uint8)
    page[8:32, 12:20] = 0  # a "1"
    image = Image.fromarray(page)
    if fmt in ("PNG", "GIF", "TIFF", "WEBP"):
        image = image.convert("RGBA" if fmt != "GIF" else "P")
    out = io.BytesIO()
    image.save(out, format=fmt)
    return out.getvalue()


SEEDS = {fmt: _digit(fmt) for fmt in FORMATS}


def test_every_seed_reads():
    for fmt, raw in SEEDS.items():
        x = prepare_digit(io.BytesIO(raw))
        assert x.shape == (1, 28, 28) and x.max() > 0.5, fmt


def test_a_20000x20000_png_is_refused_from_its_header(tmp_path):
    path = tmp_path / "bomb.png"
    path.write_bytes(png(20000, 20000))  # a few kilobytes declaring 400 million pixels
    bound = PeakBound(16 << 20)
    with pytest.raises(DataError, match=r"bomb.png: refused as a decompression bomb .*400000000 "
                                        r"pixels.*deepnum decodes at most 40,000,000 pixels"):
        prepare_digit(path)
    path.write_bytes(png(8000, 6000))  # below Pillow's limits, above deepnum's
    with pytest.raises(DataError, match=r"bomb.png: 8,000x6,000 pixels, more than the limit "
                                        r"of 40,000,000 \(open_image's max_pixels\)"):
        prepare_digit(path)
    bound.check()


def test_pillows_own_bomb_warning_is_a_data_error(tmp_path):
    path = tmp_path / "warned.png"
    path.write_bytes(png(10000, 10000))  # 100 million pixels: past Pillow's warning limit
    with pytest.raises(DataError, match="warned.png: refused as a decompression bomb"):
        open_image(path, max_pixels=10**12)


def test_a_large_image_is_shrunk_before_it_becomes_floats(tmp_path):
    page = np.full((3000, 2000), 255, np.uint8)
    page[500:2500, 900:1100] = 0
    Image.fromarray(page).save(tmp_path / "big.png")
    image = open_image(tmp_path / "big.png")
    assert max(image.size) == 1024
    x = prepare_digit(tmp_path / "big.png")
    assert x.shape == (1, 28, 28) and x.max() > 0.5


@pytest.mark.parametrize("data, problem", [
    (b"", "not in a format deepnum reads"),
    (b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\n", "not in a format deepnum reads"),
    (SEEDS["PNG"][:60], "not a readable image"),
])
def test_bad_files_are_data_errors_naming_the_file(tmp_path, data, problem):
    path = tmp_path / "x.img"
    path.write_bytes(data)
    with pytest.raises(DataError, match=problem) as info:
        prepare_digit(path)
    assert "x.img" in str(info.value)
    with pytest.raises(DataError, match="file not found"):
        prepare_digit(tmp_path / "missing.png")
    with pytest.raises(DataError, match="is a directory"):
        prepare_digit(tmp_path)


_bound = None


@settings(max_examples=cases(60), deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
@given(data=st.data(), fmt=st.sampled_from(sorted(FORMATS)))
def test_every_mutant_image_reads_or_raises_a_data_error(tmp_path_factory, data, fmt):
    global _bound
    _bound = _bound or PeakBound(256 << 20)  # a few decoded 1024x1024 RGBA images at most
    raw = SEEDS[fmt]
    if fmt == "PNG" and data.draw(st.booleans()):
        raw = data.draw(png_mutant(raw))
    else:
        raw = data.draw(raw_mutant(raw))
    path = tmp_path_factory.mktemp("img") / f"digit.{fmt.lower()}"
    path.write_bytes(raw)
    try:
        with time_limit(20, (fmt, len(raw), raw[:100])):
            x = prepare_digit(path)
    except DataError as error:
        assert str(path) in str(error)
        log_case(test="image", format=fmt, size=len(raw), loaded=False)
    else:
        log_case(test="image", format=fmt, size=len(raw), loaded=True)
        assert x.shape == (1, 28, 28) and x.dtype == np.float32
        assert np.isfinite(x).all() and 0 <= x.min() and x.max() <= 1
    _bound.check(f"after a {len(raw)}-byte {fmt}")
