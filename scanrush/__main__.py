"""``python -m scanrush ...`` is ``scanrush ...`` (child processes use it: no PATH needed)."""

from scanrush.cli import main

main()
