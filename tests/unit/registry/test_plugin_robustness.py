"""A broken third-party plug-in never hides the built-ins; plug-in contracts are checked on
registration; unknown names raise one error type everywhere; ``import_plugins`` takes a single
name; a class has one registered name; the custom-channel tutorial's code runs."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from commsldr.registry import (
    CHANNELS,
    PHYS,
    POLICIES,
    PluginWarning,
    Registry,
    UnknownNameError,
    import_plugins,
)
from commsldr_channels import Channel, UnknownChannelError, create_channel, register_channel

REPO = Path(__file__).resolve().parents[3]

#: a fake installed distribution whose entry points are broken in every way the probe found
BROKEN_EPS = """\
[commsldr.channels]
my-ch = not_installed_mod_xyz:MyChannel
awgn  = not_installed_mod_xyz:X
broken-ch = fakebroken_notclass:thing
no-states = fakebroken_nostates:NoStates
good-ch = fakebroken_good:Good

[commsldr.policies]
my-pol = not_installed_mod_xyz:P
"""
GOOD_SRC = '''
from commsldr_channels import Channel, LinkState
import torch

class Good(Channel):
    """A working plug-in channel."""

    def states(self, num_frames, *, generator):
        return LinkState(snr_db=torch.zeros(num_frames))
'''
NO_STATES_SRC = '''
from commsldr_channels import Channel

Base = Channel

class NoStates(Base):
    """A channel that forgot states()."""
'''


def _broken_dist(tmp: Path) -> Path:
    info = tmp / "fakebroken-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakebroken\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(BROKEN_EPS)
    (tmp / "fakebroken_notclass.py").write_text("thing = None\n")
    (tmp / "fakebroken_nostates.py").write_text(NO_STATES_SRC)
    (tmp / "fakebroken_good.py").write_text(GOOD_SRC)
    return tmp


def _fresh_channels() -> Registry:
    """A registry like :data:`CHANNELS` that has not read the entry points yet."""
    return Registry("channel", "commsldr.channels", base=CHANNELS.base, required=CHANNELS.required,
                    builtins=CHANNELS.builtins)


# -------------------------------------------------------------------------------------------
# 1. a broken plug-in is skipped with a warning; the built-ins and working plug-ins stay
# -------------------------------------------------------------------------------------------
def test_broken_entry_points_are_skipped_with_one_warning_each(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(_broken_dist(tmp_path)))
    reg = _fresh_channels()
    with pytest.warns(PluginWarning) as caught:
        names = reg.names()
    messages = [str(w.message) for w in caught]
    assert set(CHANNELS.builtins) <= set(names) and "good-ch" in names
    assert not {"my-ch", "broken-ch"} & set(names)
    assert reg.target("awgn") == CHANNELS.builtins["awgn"]  # the clash did not replace it
    assert any("'awgn'" in m and "taken by the built-in" in m for m in messages)
    assert any("'my-ch'" in m and "ModuleNotFoundError" in m for m in messages)
    assert any("'broken-ch'" in m and "None is not a class" in m for m in messages)
    assert all("\n" not in m for m in messages)
    # the working plug-in was listed from its source, without importing it
    assert "fakebroken_good" not in sys.modules
    # listing again warns no more and lists the same
    with warnings.catch_warnings():
        warnings.simplefilter("error", PluginWarning)
        assert reg.names() == names
        summaries = reg.summaries()
    assert summaries["good-ch"] == "A working plug-in channel." and "my-ch" not in summaries
    assert set(reg.failures()) == {"my-ch", "broken-ch"}
    # using a failing plug-in by name names the failure, not "unknown"
    with pytest.raises(ValueError, match=r"channel 'my-ch' \(not_installed_mod_xyz:MyChannel\) "
                                         r"failed to import: ModuleNotFoundError"):
        reg.get("my-ch")
    # a plug-in whose source defines a class without states: listed, refused when used, then
    # left out
    assert "no-states" in names
    with pytest.raises(ValueError, match=r"^channel 'no-states' \(fakebroken_nostates:NoStates\): "
                                         r"NoStates lacks states"):
        reg.get("no-states")
    assert "no-states" not in reg.names() and "no-states" in reg.failures()


def test_a_working_class_registered_by_name_replaces_a_broken_entry_point(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(str(_broken_dist(tmp_path)))
    reg = _fresh_channels()
    with pytest.warns(PluginWarning):
        reg.names()

    class MyChannel(Channel):
        """Registered by a script."""

        def states(self, num_frames, *, generator):  # pragma: no cover - not drawn
            raise AssertionError

    reg.add("my-ch", MyChannel)
    assert reg.get("my-ch") is MyChannel and "my-ch" in reg.names()
    assert "my-ch" not in reg.failures()


def _run(argv: list[str], pythonpath: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(pythonpath), str(REPO)])}
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, env=env,
                          cwd=pythonpath, timeout=180)


_PROBE = """
import warnings
warnings.simplefilter("ignore", UserWarning)
import commsldr_channels as c
names = c.list_channels()
assert "my-ch" not in names and "broken-ch" not in names and "awgn" in names, names
assert "good-ch" in names, names
try:
    c.create_channel("my-ch")
except ValueError as e:
    print("ERR", e)
"""


def test_listings_in_a_fresh_process(tmp_path: Path) -> None:
    path = _broken_dist(tmp_path)
    builtin_channels = set(CHANNELS.builtins)
    for argv, prefix in ((["-m", "commsldr.cli", "list", "channels"], "commsldr: warning: "),
                         (["-m", "commsldr_channels"], "python -m commsldr_channels: warning: ")):
        proc = _run(argv, path)
        assert proc.returncode == 0, proc.stderr[-2000:]
        listed = {line.split()[0] for line in proc.stdout.splitlines() if line.strip()}
        assert builtin_channels | {"good-ch"} <= listed and not {"my-ch", "broken-ch"} & listed
        warn_lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
        assert warn_lines and all(ln.startswith(prefix) for ln in warn_lines), proc.stderr
        assert any("'my-ch'" in ln and "ModuleNotFoundError" in ln for ln in warn_lines)
        assert any("'awgn'" in ln and "built-in" in ln for ln in warn_lines)
        assert any("'broken-ch'" in ln for ln in warn_lines)
    proc = _run(["-m", "commsldr.cli", "list", "policies"], path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert set(POLICIES.builtins) <= {ln.split()[0] for ln in proc.stdout.splitlines()}
    assert "'my-pol'" in proc.stderr and "my-pol" not in proc.stdout
    proc = _run(["-c", _PROBE], path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert re.search(r"ERR channel 'my-ch' \(not_installed_mod_xyz:MyChannel\) failed to "
                     r"import: ModuleNotFoundError", proc.stdout), proc.stdout
    # a scenario naming the broken plug-in: the error line names the import failure
    proc = _run(["-m", "commsldr.cli", "run", "quickstart", "--check", "--set",
                 "channels.rayleigh={type: my-ch}"], path)
    last = proc.stderr.strip().splitlines()[-1]
    assert proc.returncode == 2 and last.startswith("commsldr run: channels.rayleigh.type: "), last
    assert "failed to import: ModuleNotFoundError" in last, last


# -------------------------------------------------------------------------------------------
# 2. the channel contract is checked on registration
# -------------------------------------------------------------------------------------------
def test_a_channel_without_states_is_refused_on_registration() -> None:
    class NoStates(Channel):
        """Forgot states()."""

    with pytest.raises(TypeError, match=r"^register channel 'no-states-test': \S*NoStates lacks "
                                        r"states \(a channel must implement states\)"):
        register_channel("no-states-test")(NoStates)
    assert "no-states-test" not in CHANNELS.names()

    class Sub(CHANNELS.get("awgn")):  # inherits a real states(): fine
        """An AWGN under another name."""

    reg = _fresh_channels()
    reg.add("awgn-sub-test", Sub)
    assert reg.get("awgn-sub-test") is Sub


def test_required_methods_reject_abstract_and_placeholder_methods() -> None:
    import abc

    class Proto(abc.ABC):
        @abc.abstractmethod
        def deliver(self): ...

        def frame_capacity_bits(self):
            return 0

    reg = Registry("PHY", "commsldr.phys.test", required=("deliver", "frame_capacity_bits"))
    with pytest.raises(TypeError, match="lacks deliver"):
        reg.add("abstract-phy", type("Half", (Proto,), {}))


# -------------------------------------------------------------------------------------------
# 4. an unknown name is one error type with one message, whatever the lookup
# -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("lookup", ["get", "target", "summary", "create"])
def test_unknown_names_raise_the_same_error_everywhere(lookup: str) -> None:
    for reg, wrong, close in ((POLICIES, "fixd", "fixed"), (PHYS, "shanon", "shannon")):
        with pytest.raises(UnknownNameError) as info:
            getattr(reg, lookup)(wrong)
        msg = str(info.value)
        assert isinstance(info.value, ValueError) and "\n" not in msg
        assert msg.startswith(f"unknown {reg.kind} {wrong!r} (did you mean {close!r}?); valid: ")
        assert msg.endswith(", ".join(reg.names()))
    with pytest.raises(UnknownNameError, match=r"^unknown PHY 'x'; valid: bittrue"):
        getattr(PHYS, lookup)("x")
    with pytest.raises(UnknownNameError, match=r"^unknown policy \[1\]; valid: "):
        getattr(POLICIES, lookup)([1])


def test_unknown_channel_is_a_key_error_and_a_value_error() -> None:
    assert issubclass(UnknownChannelError, KeyError) and issubclass(UnknownChannelError, ValueError)
    for exc_type in (KeyError, ValueError):
        with pytest.raises(exc_type, match=r"^unknown channel 'awgm' \(did you mean 'awgn'\?\); "
                                           r"valid names: awgn"):
            create_channel("awgm")


# -------------------------------------------------------------------------------------------
# 5. import_plugins takes one name as one entry
# -------------------------------------------------------------------------------------------
def test_import_plugins_takes_a_single_name_or_path(tmp_path: Path) -> None:
    (tmp_path / "single_plugin_xyz.py").write_text("VALUE = 41\n")
    mods = import_plugins("single_plugin_xyz.py", base_dir=tmp_path)
    assert len(mods) == 1 and mods[0].VALUE == 41
    assert import_plugins(tmp_path / "single_plugin_xyz.py")[0] is mods[0]
    assert import_plugins([tmp_path / "single_plugin_xyz.py"])[0] is mods[0]
    assert import_plugins("json")[0] is sys.modules["json"]
    with pytest.raises(ImportError, match=r"^plug-in 'no_such_plugin_xyz'"):
        import_plugins("no_such_plugin_xyz")
    with pytest.raises(TypeError, match=r"^modules\[1\]: expected a module name or \.py path"):
        import_plugins(["json", 3])
    with pytest.raises(TypeError, match=r"^modules: expected a module name"):
        import_plugins(3)  # type: ignore[arg-type]


# -------------------------------------------------------------------------------------------
# 6. a class has one registered name
# -------------------------------------------------------------------------------------------
def test_a_class_is_not_registered_under_a_second_name() -> None:
    reg = _fresh_channels()

    class Twice(Channel):
        """Registered once."""

        def states(self, num_frames, *, generator):  # pragma: no cover - not drawn
            raise AssertionError

    reg.add("twice-a", Twice)
    with pytest.raises(ValueError, match=r"register channel 'twice-b': .*Twice is already "
                                         r"registered as 'twice-a'; a class has one name"):
        reg.add("twice-b", Twice)
    assert Twice.name == "twice-a" and "twice-b" not in reg.names()
    reg.add("twice-a", Twice)  # the same name again is fine (a re-import)

    class Sub(Twice):
        """Another name through a subclass."""

    reg.add("twice-b", Sub)
    assert Sub.name == "twice-b" and Twice.name == "twice-a"


def test_the_custom_channel_example_keeps_its_name() -> None:
    sys.path.insert(0, str(REPO / "examples"))
    try:
        import custom_channel
    finally:
        sys.path.remove(str(REPO / "examples"))
    with pytest.raises(ValueError, match="already registered as 'lognormal-example'"):
        register_channel("lognormal-2")(custom_channel.LognormalBlock)
    assert create_channel("lognormal-example").name == "lognormal-example"


# -------------------------------------------------------------------------------------------
# the tutorial's code runs as written
# -------------------------------------------------------------------------------------------
def test_custom_channel_tutorial_code_runs(tmp_path: Path) -> None:
    text = (REPO / "docs" / "tutorials" / "custom_channel.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.S)
    assert len(blocks) >= 2 and not re.search(r"^import channels\b", text, flags=re.M)
    code = "\n".join(blocks) + "\nassert len(state) == 100_000 and ch.name == 'lognormal-example'\n"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=tmp_path, timeout=180,
                          env={**os.environ, "PYTHONPATH": str(REPO)})
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_an_imported_module_attribute_that_is_no_class_defines_no_entry(tmp_path, monkeypatch):
    """Once a plug-in's module is imported, a non-class attribute still fails the cheap check
    (``None.__doc__`` is text: the order of tests once decided whether it was listed)."""
    from commsldr_channels.registry import source_summary

    (tmp_path / "fakebroken_imported.py").write_text('thing = None\n\nclass K:\n    """Doc."""\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "fakebroken_imported", raising=False)
    for _ in range(2):  # from the source, then from the imported module
        assert source_summary("fakebroken_imported:thing") is None
        assert source_summary("fakebroken_imported:K") == "Doc."
        __import__("fakebroken_imported")
