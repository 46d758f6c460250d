"""The Locust engine: POS terminals as Locust users, run in a child process.

Only ``load/engine/__main__.py`` imports locust, and it does so first: locust
monkey-patches the process on import (load-testing.md §1.1).  Everything else in
this package is plain Python and importable from the gevent-free CLI and tests.
"""
