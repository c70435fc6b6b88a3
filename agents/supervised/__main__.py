"""`python -m agents.supervised`: the same command line as `memtape supervised`."""

import sys

from agents.supervised.cli import main

sys.exit(main(prog="python -m agents.supervised"))
