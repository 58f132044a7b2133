"""The command line, ``digitrec`` (or ``python -m digitrec``): one module per family of commands.

``model`` (train, evaluate, export), ``predict``, ``drawings`` (the saved drawings, finetune);
``options`` holds what several share and ``main`` puts them together.
"""

from digitrec.cli.main import main, parser

__all__ = ["main", "parser"]
