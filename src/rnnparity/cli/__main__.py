"""`python -m rnnparity.cli`: the same as the `rnnparity` command."""
import sys

from . import main

if __name__ == "__main__":
    sys.exit(main())
