"""One module per ``scanrush`` subcommand, imported only when that command runs.

A command module provides::

    def add_arguments(parser: argparse.ArgumentParser) -> None: ...
    def run(args: argparse.Namespace) -> int: ...   # the exit code (see DESIGN.md)

and is listed in ``scanrush.cli.COMMANDS``.  It raises `scanrush.errors.ScanrushError`
subclasses for anything the user must fix; the CLI prints those without a traceback.
"""
