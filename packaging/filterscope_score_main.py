"""The score bundle's entry point (PyInstaller): ``filterscope-score``."""

import sys

from filterscope.score.cli import main

if __name__ == "__main__":
    sys.exit(main())
