"""``python -m commsldr_channels``: list the registered channel models with one-line descriptions."""

from __future__ import annotations

import argparse

from commsldr_channels.registry import channel_descriptions, plugin_warnings_as_lines

PROG = "python -m commsldr_channels"


def main(argv: list[str] | None = None) -> int:
    """Print ``name  description`` for every registered channel (built-ins and plug-ins); a
    plug-in that cannot be used is left out with one warning line on stderr naming it."""
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.parse_args(argv)
    with plugin_warnings_as_lines(PROG):
        descriptions = channel_descriptions()
    width = max((len(n) for n in descriptions), default=0)
    for name, text in descriptions.items():
        print(f"{name.ljust(width)}  {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
