"""``python -m filterscope``: the GUI without arguments, the CLI with a command."""

import sys

from filterscope.cli.main import main

sys.exit(main())
