"""``models/README.md`` shows what ``models/index.json`` holds: a row for every shipped
checkpoint, with the index's recipe, d_y, seed and test accuracy, and for the entropy-bottleneck
models every rate point's accuracy and real payload bits."""

from __future__ import annotations

import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
INDEX = json.loads((REPO / "models" / "index.json").read_text())["models"]
README = (REPO / "models" / "README.md").read_text()

#: | `name` | recipe | d_y | seed | 90.04 % | what it is |
_ROW = re.compile(r"^\| `([\w-]+)` \| `([\w-]+)` \| (\d+) \| (\d+) \| ([\d.]+) % \|", re.M)
#: | `name` | seed | float acc | rate point (λ) | test acc | bits (p50 / p95 / max) |, then
#: | | | | rate point (λ) | ... for the further rate points of the same model
_EB_ROW = re.compile(r"^\|\s*(?:`([\w-]+)`)?\s*\|\s*(\d*)\s*\|\s*(?:([\d.]+) %)?\s*\|\s*"
                     r"(\d+) \(([\d.]+)\) \| ([\d.]+) % \| ([\d.]+) \((\d+) / (\d+) / (\d+)\) \|",
                     re.M)


def _pct(x: float) -> str:
    return f"{100 * x:.2f}"


def test_every_shipped_model_has_its_row_with_the_index_numbers():
    rows = {m.group(1): m.groups()[1:] for m in _ROW.finditer(README)}
    eb_names = {n for n, e in INDEX.items() if e.get("rate_points")}
    assert set(rows) | eb_names == set(INDEX), set(INDEX) ^ (set(rows) | eb_names)
    for name, (recipe, d_y, seed, acc) in rows.items():
        e = INDEX[name]
        assert (recipe, int(d_y), int(seed), acc) == (
            e["recipe"], e["latent_dim"], e["seed"], _pct(e["test_acc"])), name


def test_every_rate_point_has_its_row_with_the_index_numbers():
    eb_names = sorted(n for n, e in INDEX.items() if e.get("rate_points"))
    assert eb_names
    seen: dict[str, list[tuple]] = {}
    name = None
    for m in _EB_ROW.finditer(README):
        if m.group(1):
            name = m.group(1)
            e = INDEX[name]
            assert (int(m.group(2)), m.group(3)) == (e["seed"], _pct(e["test_acc"])), name
        seen.setdefault(name, []).append(m.groups()[3:])
    assert sorted(seen) == eb_names
    for name in eb_names:
        want = [(str(p["rate"]), f"{p['lambda']:g}", _pct(p["accuracy"]), f"{p['payload_bits']:.2f}",
                 f"{p['payload_p50']:.0f}", f"{p['payload_p95']:.0f}", f"{p['payload_max']:.0f}")
                for p in INDEX[name]["rate_points"]]
        assert seen[name] == want, name
