"""`python -m rnnparity.cli`: the same as the `rnnparity` command."""
import sys

from . import main

sys.exit(main())
