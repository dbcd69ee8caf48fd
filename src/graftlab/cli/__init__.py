"""Command-line interface: ``graftlab COMMAND``; see :mod:`graftlab.cli.main`."""
