"""The generated JSON Schema accepts every shipped scenario file as written and rejects what the
loader rejects for the same reason (unknown keys, unknown types, out-of-range values)."""

from __future__ import annotations

import json

import jsonschema
import pytest

from commsldr.cli import main as cli_main
from commsldr.registry import import_plugins
from commsldr.scenario.json_schema import scenario_json_schema
from commsldr.scenario.load import list_scenarios, parse_yaml, scenario_path


@pytest.fixture(scope="module")
def validator():
    schema = scenario_json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


@pytest.mark.parametrize("name", list_scenarios())
def test_shipped_scenarios_validate(validator, name):
    path = scenario_path(name)
    raw = parse_yaml(path.read_text(), str(path))  # YAML 1.2 numbers (3.5e9), as editors read
    if raw.get("plugins"):  # their types join the schema once imported (commsldr schema --plugin)
        import_plugins(raw["plugins"], base_dir=path.parent)
        validator = jsonschema.Draft202012Validator(scenario_json_schema())
    errors = [f"{'.'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(raw)]
    assert not errors, errors[:5]


@pytest.mark.parametrize(("raw", "where"), [
    ({"frmes": 10}, ""),
    ({"channels": {"a": {"type": "no-such-channel"}}}, "channels.a"),
    ({"channels": {"a": {"type": "awgn", "snr": 5}}}, "channels.a"),
    ({"link": {"phy": "shannon", "images_per_packet": 0}}, "link"),
    ({"outputs": {"ci": "normal"}}, "outputs.ci"),
    ({"seeds": [-1]}, "seeds.0"),
    ({"policies": {"p": {"type": "fixed", "k": 8, "scale": 1.0, "margin": 1}}}, "policies.p"),
    # a numeric string, refused by validation, is refused by the schema too
    ({"channels": {"a": {"type": "awgn", "snr_db": "10"}}}, "channels.a"),
])
def test_bad_files_fail(validator, raw, where):
    errors = list(validator.iter_errors(raw))
    assert errors
    assert any(".".join(map(str, e.path)) == where for e in errors), \
        [".".join(map(str, e.path)) for e in errors]


def test_cli_prints_the_schema(capsys):
    assert cli_main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["$schema"].endswith("2020-12/schema")
    kinds = {b["title"] for b in schema["properties"]["channels"]["additionalProperties"]["oneOf"]}
    assert {"awgn", "doppler-fading", "gilbert-elliott"} <= kinds
