"""`python -m stylemixer.gui [FILE] [--model M] [--device D]`: the desktop app with its own options."""

import sys

from .app import main

sys.exit(main())
