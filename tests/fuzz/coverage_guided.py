"""Coverage-guided fuzzing (atheris, i.e. libFuzzer for Python) of deepnum's readers of outside
files, beside the hypothesis tests: where those mutate seeds in ways we chose, this follows the
branches each input reaches in deepnum's (and Pillow's) code. Any exception other than a
DeepnumError is a crash; libFuzzer also stops on a case over its time or memory limit.

    pip install atheris          # optional; CI does not run this
    python -m tests.fuzz.coverage_guided idx -atheris_runs=20000 -rss_limit_mb=1024 -timeout=10
    python -m tests.fuzz.coverage_guided csv|image|idx [libFuzzer options] [corpus folder]
"""

import io
import sys
import tempfile
from pathlib import Path

import atheris
import numpy as np

with atheris.instrument_imports(include=["deepnum", "PIL", "gzip"]):
    # deepnum imports Pillow and its format plugins lazily: import them here, to instrument them
    from PIL import Image

    Image.init()
    import gzip  # noqa: F401 - read_idx inflates through it

    from deepnum.data.csv import load_csv
    from deepnum.data.idx import read_idx
    from deepnum.errors import DeepnumError
    from deepnum.train.images import prepare_digit


def _seeds() -> dict:
    from PIL import Image

    from tests.fuzz.mutate import gzip_bytes, idx_bytes

    idx = idx_bytes(np.arange(2 * 28 * 28, dtype=np.uint8).reshape(2, 28, 28))
    page = np.full((16, 12), 255, np.uint8)
    page[3:13, 5:7] = 0
    out = io.BytesIO()
    Image.fromarray(page).save(out, format="PNG")
    return {"idx": [idx, gzip_bytes(idx)],
            "csv": [b"a,b,label\n0.5,1,0\n2,3,1\n", b"1,2,setosa\n3,4,virginica\n"],
            "image": [out.getvalue()]}


READERS = {"idx": read_idx, "csv": lambda path: load_csv(path, max_classes=100),
           "image": prepare_digit}


def main() -> None:
    name, options = sys.argv[1], sys.argv[2:]
    folder = Path(tempfile.mkdtemp(prefix=f"deepnum-{name}-"))
    corpus = folder / "corpus"
    corpus.mkdir()
    for i, seed in enumerate(_seeds()[name]):
        (corpus / f"seed{i}").write_bytes(seed)
    path, read = folder / "input", READERS[name]

    def one(data: bytes) -> None:
        path.write_bytes(data)
        try:
            read(path)
        except DeepnumError:
            pass

    if not any(not o.startswith("-") for o in options):
        options.append(str(corpus))
    atheris.Setup([sys.argv[0], *options], one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
