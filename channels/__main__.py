"""``python -m commsldr_channels``: list the registered channel models with one-line descriptions."""

from __future__ import annotations

import argparse

from commsldr_channels.registry import channel_descriptions


def main(argv: list[str] | None = None) -> int:
    """Print ``name  description`` for every registered channel (built-ins and plug-ins)."""
    parser = argparse.ArgumentParser(prog="python -m commsldr_channels", description=__doc__)
    parser.parse_args(argv)
    descriptions = channel_descriptions()
    width = max(len(n) for n in descriptions)
    for name, text in descriptions.items():
        print(f"{name.ljust(width)}  {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
