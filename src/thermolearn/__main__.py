"""``python -m thermolearn``: the same command as ``thermolearn``."""

import sys

from thermolearn.cli.main import main

sys.exit(main())
