"""``python -m atopic``: the same command as ``atopic``."""

from atopic.cli import main

main()
