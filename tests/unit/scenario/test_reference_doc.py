"""The scenario reference page is generated from the schema dataclasses and must be current."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from commsldr.scenario import schema

DOC = Path(__file__).resolve().parents[3] / "docs" / "guide" / "scenarios.md"


def test_reference_page_matches_the_schema():
    text = DOC.read_text()
    generated = schema.reference_markdown()
    assert generated in text, (
        "docs/guide/scenarios.md is out of date; regenerate the part after '## Every key' with "
        "commsldr.scenario.schema.reference_markdown()")


def test_every_field_is_documented():
    for cls in (schema.Scenario, schema.DataConfig, schema.ModelConfig, schema.CodingConfig,
                schema.ChannelConfig, schema.LinkConfig, schema.CSIConfig, schema.PolicyConfig,
                schema.AnalogConfig, schema.SchemeConfig, schema.PaperFiguresConfig,
                schema.CellSection, schema.OutputConfig):
        for f in dataclasses.fields(cls):
            assert f.metadata.get("doc"), f"{cls.__name__}.{f.name} has no doc"
