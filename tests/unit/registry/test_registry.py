"""The shared registry helper: lazy built-ins, entry-point plug-ins, decorators, user modules,
and no import cycle between a registry and what it registers."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

from commsldr.registry import (
    CSI_MODELS,
    PHYS,
    POLICIES,
    Registry,
    describe_params,
    import_plugins,
    unit_of,
)

REPO = Path(__file__).resolve().parents[3]
PLUGIN_SRC = '''
from commsldr.adapt import Policy

class Stubborn(Policy):
    """Always the cheapest point (a test plug-in)."""

    def __init__(self, patience_frames: int = 2) -> None:
        super().__init__()
        self.patience_frames = patience_frames

    def choose_index(self, csi):
        return 0
'''


def _dist(tmp: Path, group: str, line: str, module: str, src: str) -> None:
    """An installed distribution (dist-info with entry points) plus its module, on ``tmp``."""
    info = tmp / "fakeplug-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakeplug\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(f"[{group}]\n{line}\n")
    (tmp / f"{module}.py").write_text(src)


def test_builtins_are_lazy_and_resolve() -> None:
    # every built-in is listed; anything else was registered by a plug-in that another test of
    # this process imported (e.g. examples/custom_policy.py), never by the library itself
    names = POLICIES.names()
    assert [n for n in names if n in POLICIES.builtins] == sorted(POLICIES.builtins)
    for extra in set(names) - set(POLICIES.builtins):
        assert not POLICIES.get(extra).__module__.startswith("commsldr."), extra
    assert set(CSI_MODELS.names()) >= {"perfect", "delayed", "noisy", "ack-nack"}
    assert PHYS.target("nr") == "commsldr.link.nr:NRPHY"
    for reg in (POLICIES, CSI_MODELS, PHYS):
        for name in reg.builtins:
            assert reg.get(name).name == name if reg is not PHYS else reg.get(name)


def test_entry_point_plugin_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _dist(tmp_path, "commsldr.policies", "stubborn = fakeplug_pol:Stubborn", "fakeplug_pol",
          PLUGIN_SRC)
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = Registry("policy", "commsldr.policies", base="commsldr.adapt.policies:Policy",
                   builtins=POLICIES.builtins)
    assert "stubborn" in reg.names() and "fakeplug_pol" not in sys.modules  # listed lazily
    assert reg.summary("stubborn") == "Always the cheapest point (a test plug-in)."
    assert "fakeplug_pol" not in sys.modules  # the summary is read from the source
    p = reg.create("stubborn", patience_frames=4)
    assert p.name == "stubborn" and p.patience_frames == 4
    with pytest.raises(ValueError, match="unknown parameter 'nope'"):
        reg.create("stubborn", nope=1)


def test_entry_point_that_is_not_a_policy_fails_by_name(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    _dist(tmp_path, "commsldr.csi", "bogus = fakeplug_csi:Bogus", "fakeplug_csi",
          "class Bogus:\n    '''not a CSI model'''\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    reg = Registry("CSI model", "commsldr.csi", base="commsldr.adapt.csi:CSIModel")
    with pytest.raises(ValueError, match="bogus.*not a subclass"):
        reg.get("bogus")


def test_phy_plugin_needs_the_phy_methods() -> None:
    reg = Registry("PHY", "commsldr.phys.test", required=("deliver", "frame_capacity_bits"))

    class Half:
        def deliver(self, *a): ...

    with pytest.raises(TypeError, match="lacks frame_capacity_bits"):
        reg.add("half", Half)


def test_register_conflicts_and_names() -> None:
    reg = Registry("thing", "commsldr.things.test")

    @reg.register("a-thing")
    class A:
        """An A."""

    assert reg.get("a-thing") is A and A.name == "a-thing" and reg.summary("a-thing") == "An A."

    class B:
        pass

    with pytest.raises(ValueError, match="already registered"):
        reg.add("a-thing", B)
    with pytest.raises(ValueError, match="lowercase"):
        reg.add("Bad Name", B)
    with pytest.raises(ValueError, match="unknown thing 'zzz'; valid: a-thing"):
        reg.get("zzz")


def test_units_from_names() -> None:
    assert [unit_of(n) for n in ("mean_snr_db", "frame_s", "bandwidth_hz", "coherence_frames",
                                 "mean_bits_per_frame", "speed_mps", "k")] == \
        ["dB", "s", "Hz", "frames", "bits/frame", "m/s", ""]


def test_describe_params_reads_the_args_section() -> None:
    from commsldr.adapt.policies import OutageAware

    info = {p.name: p for p in describe_params(OutageAware)}
    assert info["snr_std_db"].unit == "dB" and "CSI error" in info["snr_std_db"].doc
    assert info["quadrature_points"].default == "32"


def test_import_plugins_file_once_and_scenario_uses_it() -> None:
    from commsldr.scenario import load_scenario

    mods = import_plugins(["examples/custom_policy.py"], base_dir=REPO)
    again = import_plugins([str(REPO / "examples" / "custom_policy.py")])
    assert mods[0] is again[0]
    assert "hysteresis-greedy" in POLICIES.names()
    loaded = load_scenario(REPO / "scenarios" / "custom_policy.yaml")
    assert loaded.scenario.policies["hysteresis"].type == "hysteresis-greedy"


def test_bad_plugin_is_a_scenario_error(tmp_path: Path) -> None:
    from commsldr.scenario import ScenarioError, load_scenario

    (tmp_path / "s.yaml").write_text("plugins: [no_such_module_xyz]\n")
    with pytest.raises(ScenarioError, match="^plugins: plug-in 'no_such_module_xyz'"):
        load_scenario(tmp_path / "s.yaml", allow_plugins=True)


def _imports(path: Path, package: str) -> set[str]:
    """Every commsldr module ``path`` imports, at module level or inside functions."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                mod = f"{base}.{node.module}" if node.module else base
            else:
                mod = node.module or ""
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
        elif isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
    return {m for m in out if m.startswith("commsldr")}


@pytest.mark.parametrize("a,b", [
    ("commsldr.adapt.registry", "commsldr.adapt.policies"),
    ("commsldr.models.registry", "commsldr.models.split"),
    ("commsldr.registry", "commsldr.adapt.policies"),
    ("commsldr.registry", "commsldr.adapt.csi"),
    ("commsldr.schemes.registry", "commsldr.schemes.codec"),
    ("commsldr.schemes.registry", "commsldr.schemes.jscc"),
])
def test_registry_and_registered_do_not_import_each_other(a: str, b: str) -> None:
    def file(mod: str) -> Path:
        return REPO.joinpath(*mod.split(".")).with_suffix(".py")

    a_imports = _imports(file(a), a.rsplit(".", 1)[0])
    b_imports = _imports(file(b), b.rsplit(".", 1)[0])
    assert not (b in a_imports and a in b_imports), f"{a} and {b} import each other"
    assert b not in a_imports, f"{a} imports {b}"
