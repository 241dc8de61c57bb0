"""`python -m rnnparity`: the same as the `rnnparity` command (and `python -m rnnparity.cli`)."""
import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
