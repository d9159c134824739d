"""`python -m mailkit_async`: the `mailkit-async` command (see `mailkit_async._cli`)."""

import sys

from ._cli import main

if __name__ == "__main__":
    sys.exit(main())
