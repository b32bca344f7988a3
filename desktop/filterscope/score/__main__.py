"""``python -m filterscope.score``: the ``filterscope-score`` command."""

import sys

from filterscope.score.cli import main

sys.exit(main())
