"""The optional tools load only when asked for: ``import deepnum`` (and the ``deepnum`` command's
module, the train package with its TensorBoard and trace code) never imports them."""

import subprocess
import sys


def test_import_deepnum_never_imports_the_optional_tools():
    code = ("import sys, deepnum, deepnum.train, deepnum.nn, deepnum.cli, deepnum.docsite\n"
            "bad = [m for m in ('tensorboardX', 'tensorboard', 'mkdocs', 'mkdocstrings', "
            "'griffe', 'matplotlib', 'rich') if m in sys.modules]\n"
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)
