"""The ``commsldr`` command line, all of it in this package.

| module | command |
|---|---|
| :mod:`commsldr.cli.main` | the parser, ``run``, ``plot``, ``list``, ``describe``, error reporting; :func:`main` is the console script |
| :mod:`commsldr.cli.catalogue` | what ``commsldr list`` prints (the registries' summaries, no torch import) |
| :mod:`commsldr.cli.describe` | ``commsldr describe KIND NAME`` |
| :mod:`commsldr.cli.evaluate` | ``commsldr evaluate MODEL ...`` (the numbers: :func:`commsldr.train.assess.assess`) |
| :mod:`commsldr.cli.train` | ``commsldr train`` options and :class:`~commsldr.train.TrainConfig` from them |

Importing this package imports only :mod:`argparse` and the standard library: ``--help``,
``--version`` and ``list`` answer without torch.
"""

from commsldr.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
