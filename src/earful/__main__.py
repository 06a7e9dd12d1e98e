"""``python -m earful`` runs the CLI."""

import sys

from earful.cli import main

sys.exit(main())
