import sys

from dadan.tui.cli import main

if __name__ == "__main__":  # not when a spawned process imports it (core.demo)
    sys.exit(main())
