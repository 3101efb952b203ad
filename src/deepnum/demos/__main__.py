"""``python -m deepnum.demos NAME|all [--fast] [--out DIR]`` is ``deepnum demo ...``."""

import sys

from deepnum.demos import main

sys.exit(main())
