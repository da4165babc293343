import sys

from dadan.tui.cli import main

sys.exit(main())
