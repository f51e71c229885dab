"""`python -m aopt` is the `paola` command."""

from aopt.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
