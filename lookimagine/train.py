"""``python -m lookimagine.train``: the training entry point, kept at this name for the commands recorded in
scripts, docs and checkpoint cards; it lives in ``lookimagine.training.cli``."""

import sys

from .training.cli import LAUNCHED, main

__all__ = ["LAUNCHED", "main"]

if __name__ == "__main__":
    sys.exit(main())
