"""``python -m commsldr.cli ...`` (e.g. under ``torchrun``): the ``commsldr`` command."""

import sys

from commsldr.cli.main import main

if __name__ == "__main__":
    sys.exit(main())
