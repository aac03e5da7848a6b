"""``python -m sovereign``."""

import sys

from sovereign.cli.main import main

if __name__ == "__main__":  # only as a program: importing the module must not run the CLI
    sys.exit(main())
