"""Every Python example of the docs runs as printed.

Each ```python block of ``docs/``, ``README.md`` and ``models/README.md`` is executed. A block that continues an earlier one, or names an
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
READMES = [DOCS.parent / "README.md", DOCS.parent / "models" / "README.md"]
_BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def _blocks() -> list[tuple[str, str]]:
    """``(id, code)`` of every python block: id is ``<page>:<line of the fence>``."""
    out = []
    for page in [*sorted(DOCS.rglob("*.md")), *READMES]:
        text = page.read_text()
        name = page.relative_to(DOCS if page.is_relative_to(DOCS) else DOCS.parent).as_posix()
        for m in _BLOCK.finditer(text):
            line = text[: m.start()].count("\n") + 1
            out.append((f"{name}:{line}", m.group(1)))
    return out


def _key(block_id: str) -> str:
    """A block's page (line numbers move as pages are edited: blocks are named by their start)."""
    return block_id.split(":", 1)[0]


#: (page, start of the block's code) -> why the block is not run here
NOT_RUN = {
    ("guide/training.md", "from commsldr.train import TrainConfig, evaluate, load_data"):
        "trains a model on CIFAR-10 (a download and minutes of CPU)",
    ("guide/data_and_models.md", "import torch\nfrom commsldr.data import Augment, BatchLoader, load_dataset"):
        "loads the CIFAR-10 ImageFolder copy the reader names (PATH/TO/cifar10-jpeg)",
}

#: code run before a block, by (page, start of its code): the objects the page describes in words
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


def _matches(key: tuple[str, str], block_id: str, code: str) -> bool:
    """``key`` = (page, start of the block's code) names this block."""
    return _key(block_id) == key[0] and code.lstrip().startswith(key[1])


def _lookup(table: dict, block_id: str, code: str):
    """The entry of ``table`` that names this block, else ``None``."""
    return next((v for k, v in table.items() if _matches(k, block_id, code)), None)


def test_every_exception_names_exactly_one_block():
    blocks = _blocks()
    counts = {k: sum(_matches(k, i, c) for i, c in blocks) for k in (*NOT_RUN, *PRELUDES)}
    assert all(n == 1 for n in counts.values()), {k: n for k, n in counts.items() if n != 1}


def _redirect(code: str, tmp: Path) -> str:
    """``runs/...`` and ``PATH/TO/...`` written by an example go to ``tmp``; the tiny model's
    checkpoint stands for ``runs/model.pt``."""
    code = code.replace('"runs/model.pt"', "str(TINY.checkpoint_path)")
    return re.sub(r'"(runs|PATH/TO)/', lambda m: f'"{tmp.as_posix()}/', code)


def _pages() -> list[str]:
    return sorted({_key(i) for i, _ in _blocks()})


@pytest.fixture
def fresh_registries(monkeypatch):
    """Every registry holds its built-ins only while the test runs (an example registers its own
    ``lognormal-example`` or ``cheapest``, which another test may have registered from another
    file), no plug-in file counts as imported, and all is restored afterwards."""
    from commsldr import registry

    saved = {kind: dict(vars(r)) for kind, r in registry.REGISTRIES.items()}
    for r in registry.REGISTRIES.values():
        r._entries, r._checked, r._failed = dict(r.builtins), set(), {}
    monkeypatch.setattr(registry, "_IMPORTED_FILES", {})
    yield
    for kind, state in saved.items():
        vars(registry.REGISTRIES[kind]).clear()
        vars(registry.REGISTRIES[kind]).update(state)


@pytest.mark.parametrize("page", _pages())
def test_the_examples_of_a_page_run_in_order(page, tiny_trained, tmp_path, monkeypatch,
                                              fresh_registries):
    """The blocks of one page share their names, as a reader running them in turn would."""
    monkeypatch.chdir(tmp_path)
    scope = {"__name__": "__docs__", "TINY": tiny_trained}
    ran = 0
    for block_id, code in _blocks():
        if _key(block_id) != page or _lookup(NOT_RUN, block_id, code):
            continue
        exec(compile(_lookup(PRELUDES, block_id, code) or "", f"{block_id} prelude", "exec"), scope)
        exec(compile(_redirect(code, tmp_path), block_id, "exec"), scope)
        ran += 1
    if not ran:
        pytest.skip("; ".join(why for (pg, _), why in NOT_RUN.items() if pg == page))
