"""Every Python example of the docs runs as printed.

Each ```python block of ``docs/`` is executed. A block that continues an earlier one, or names an
object the page has described in words (``table``, ``model``, ``train``), runs after a short
prelude that makes that object from the tiny test model and the synthetic data; a path the page
writes as ``PATH/TO/...`` or ``runs/...`` is redirected to a temporary folder. A block that
cannot run here (a CIFAR-10 download, a training run of minutes) is listed in ``NOT_RUN`` with
the reason, and the list is checked to name real blocks, so a new example is run by default.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parents[3] / "docs"
_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def _blocks() -> list[tuple[str, str]]:
    """``(id, code)`` of every python block: id is ``<page>:<line of the fence>``."""
    out = []
    for page in sorted(DOCS.rglob("*.md")):
        text = page.read_text()
        for m in _BLOCK.finditer(text):
            line = text[: m.start()].count("\n") + 1
            out.append((f"{page.relative_to(DOCS).as_posix()}:{line}", m.group(1)))
    return out


def _key(block_id: str) -> str:
    """A block's page and the first line of its code (line numbers move as pages are edited)."""
    return block_id.split(":", 1)[0]


#: (page, start of the block's first code line) -> why the block is not run here
NOT_RUN = {
    ("guide/training.md", "from commsldr.train import TrainConfig, evaluate, load_data"):
        "trains a model on CIFAR-10 (a download and minutes of CPU)",
    ("guide/data_and_models.md", "import torch"):
        "loads the CIFAR-10 ImageFolder copy the reader names (PATH/TO/cifar10-jpeg)",
}

#: code run before a block, by (page, start of its first code line): the objects the page
#: describes in words
PRELUDES = {
    ("guide/cell.md", "from commsldr.cell import CellConfig, simulate_cell"):
        "from commsldr.link.synthetic_table import synthetic_table\n"
        "table = synthetic_table(seed=0)\n",
    ("guide/data_and_models.md", "from commsldr.data import make_views"):  # the page's first block
        "import torch\n"                                                   # on synthetic data
        "from commsldr.data import Augment, BatchLoader, load_dataset\n"
        "train = load_dataset('synthetic', 'train', num_per_class=13, seed=0)\n"
        "g = torch.Generator().manual_seed(0)\n",
    ("guide/link.md", "from commsldr.adapt import Fixed, PointMenu"):
        "train, test = TINY.train, TINY.test\n",
    ("guide/source_coding.md", "from commsldr.coding import (compute_latent_stats, make_source_coder, encode_images,"):
        "from commsldr.coding import encode_dataset\n"
        "from commsldr.train import model_id\n"
        "model, train_data, test_data = TINY.model, TINY.train, TINY.test\n"
        "y, mid = encode_dataset(model, test_data)[:4], model_id(model)\n",
    ("guide/source_coding.md", "from commsldr.coding import fit_klt, make_source_coder, scale_for_budget"):
        "from commsldr.coding import encode_dataset\n"
        "train_latents = encode_dataset(TINY.model, TINY.train)\n"
        "calib_latents, y = train_latents[::2], encode_dataset(TINY.model, TINY.test)[:8]\n",
}


def _first_line(code: str) -> str:
    return next(ln for ln in code.splitlines() if ln.strip())


def _pairs() -> list[tuple[str, str]]:
    return [(_key(i), _first_line(c)) for i, c in _blocks()]


def _lookup(table: dict, page: str, code: str):
    """The entry of ``table`` for the block of ``page`` whose first line starts with the key's."""
    first = _first_line(code)
    return next((v for (pg, start), v in table.items() if pg == page and first.startswith(start)),
                None)


def test_every_exception_names_a_block():
    pairs = _pairs()
    unused = [k for k in (*NOT_RUN, *PRELUDES)
              if not any(pg == k[0] and first.startswith(k[1]) for pg, first in pairs)]
    assert not unused, f"no such block: {unused}"


def _redirect(code: str, tmp: Path) -> str:
    """``runs/...`` and ``PATH/TO/...`` written by an example go to ``tmp``; the tiny model's
    checkpoint stands for ``runs/model.pt``."""
    code = code.replace('"runs/model.pt"', "str(TINY.checkpoint_path)")
    return re.sub(r'"(runs|PATH/TO)/', lambda m: f'"{tmp.as_posix()}/', code)


def _pages() -> list[str]:
    return sorted({_key(i) for i, _ in _blocks()})


@pytest.fixture
def fresh_registries():
    """Every registry holds its built-ins only while the test runs (an example registers its own
    ``lognormal-example`` or ``cheapest``, which another test may have registered from another
    file), and is restored afterwards."""
    from commsldr import registry as lib
    from commsldr_channels import registry as chan

    regs = [v for v in vars(lib).values() if isinstance(v, chan.Registry)] + [chan.CHANNELS]
    saved = [(r, r._entries, r._checked, r._failed, r._plugins_loaded) for r in regs]
    for r in regs:
        r._entries, r._checked, r._failed = dict(r.builtins), set(), {}
    yield
    for r, entries, checked, failed, loaded in saved:
        r._entries, r._checked, r._failed, r._plugins_loaded = entries, checked, failed, loaded


@pytest.mark.parametrize("page", _pages())
def test_the_examples_of_a_page_run_in_order(page, tiny_trained, tmp_path, monkeypatch,
                                              fresh_registries):
    """The blocks of one page share their names, as a reader running them in turn would."""
    monkeypatch.chdir(tmp_path)
    scope = {"__name__": "__docs__", "TINY": tiny_trained}
    ran = 0
    for block_id, code in _blocks():
        if _key(block_id) != page or _lookup(NOT_RUN, page, code):
            continue
        exec(compile(_lookup(PRELUDES, page, code) or "", f"{block_id} prelude", "exec"), scope)
        exec(compile(_redirect(code, tmp_path), block_id, "exec"), scope)
        ran += 1
    if not ran:
        pytest.skip("; ".join(why for (pg, _), why in NOT_RUN.items() if pg == page))
