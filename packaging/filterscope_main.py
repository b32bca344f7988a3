"""The bundles' entry point, as ``python -m filterscope``: the app without arguments, a command
or ``--self-test`` with them (one dispatch: :func:`filterscope.cli.main.main`)."""

import sys

from filterscope.cli.main import main

sys.exit(main())
