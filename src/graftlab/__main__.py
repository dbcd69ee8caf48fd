"""``python -m graftlab`` is the ``graftlab`` command."""

from graftlab.cli.main import run

run()
