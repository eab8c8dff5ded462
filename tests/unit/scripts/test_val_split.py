"""scripts/val_split.py: a stratified validation split of an ImageFolder's training images, as
links; disjoint, complete, reproducible, and never read from the test split."""

from __future__ import annotations

from pathlib import Path


def _folder(root: Path) -> None:
    for split, n in (("train", 20), ("test", 5)):
        for cls in ("a", "b", "c"):
            d = root / split / cls
            d.mkdir(parents=True)
            for i in range(n):
                (d / f"{i:03d}.jpg").write_bytes(bytes([i]))


def test_split_is_stratified_disjoint_and_reproducible(load_script, tmp_path, capsys):
    mod = load_script("val_split")
    _folder(tmp_path / "data")
    out = tmp_path / "val"
    assert mod.main(["--data", str(tmp_path / "data"), "--out", str(out), "--fraction", "0.25"]) == 0
    for cls in ("a", "b", "c"):
        train = {p.resolve() for p in (out / "train" / cls).iterdir()}
        val = {p.resolve() for p in (out / "test" / cls).iterdir()}
        assert len(val) == 5 and len(train) == 15 and not train & val
        assert train | val == {p.resolve() for p in (tmp_path / "data" / "train" / cls).iterdir()}
    # the same command again: nothing to do; another seed: refused, nothing written
    assert mod.main(["--data", str(tmp_path / "data"), "--out", str(out), "--fraction", "0.25"]) == 0
    before = sorted(str(p) for p in out.rglob("*"))
    assert mod.main(["--data", str(tmp_path / "data"), "--out", str(out), "--fraction", "0.25",
                     "--seed", "1"]) == 2
    assert "another split" in capsys.readouterr().err
    assert sorted(str(p) for p in out.rglob("*")) == before
    assert mod.main(["--data", str(tmp_path), "--out", str(tmp_path / "x")]) == 2  # no train/
