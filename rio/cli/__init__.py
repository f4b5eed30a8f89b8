"""The `rio` command line: a door that parses, calls the runtime and prints."""

from rio.cli.main import main

__all__ = ["main"]
