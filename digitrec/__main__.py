"""``python -m digitrec ...``: see ``digitrec.cli``."""

import sys

from digitrec.cli import main

sys.exit(main())
