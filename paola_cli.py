"""Shim so that `python paola_cli.py ...` does what the `paola` command does."""

from aopt.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
