"""``python -m bench``: see bench/cli.py."""

import sys

from nummerlapp.bench.cli import main

sys.exit(main())
