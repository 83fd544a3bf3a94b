"""``python -m uproar.cli``: the same as the ``uproar`` command."""

from uproar.cli.app import main

main()
