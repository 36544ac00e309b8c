"""``python -m mockhub`` works like the ``mockhub`` command."""

import sys

from mockhub.cli import main

sys.exit(main())
