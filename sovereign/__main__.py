"""``python -m sovereign``."""

import sys

from sovereign.cli.main import main

sys.exit(main())
