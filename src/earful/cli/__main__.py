"""``python -m earful.cli`` runs the CLI (as ``python -m earful`` does)."""

import sys

from earful.cli import main

sys.exit(main())
