"""``python -m deepnum.playground`` is ``deepnum playground``."""

import sys

from deepnum.playground.server import main

sys.exit(main())
