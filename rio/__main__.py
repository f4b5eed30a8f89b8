"""`python -m rio`: the same command as `rio`, for where the script is not on PATH."""

from rio.cli import main

main()
