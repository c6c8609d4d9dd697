"""``python -m app.cli``: the same as the ``descent-lab`` command."""

import sys

from app.cli import main

sys.exit(main())
