"""schemas/ is generated from the models, and the fixtures agree with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from kraken_ws.models.messages import message_tag
from kraken_ws.models.schema import build_schemas
from tests.wire import load_jsonl

SCHEMAS = Path(__file__).parent.parent / "schemas"


def test_schemas_up_to_date() -> None:
    files = build_schemas()
    drift = [n for n, text in files.items() if (SCHEMAS / n).read_text() != text]
    assert not drift, f"schemas/ drifted from the models: {drift}; run `make schemas`"
    on_disk = {str(p.relative_to(SCHEMAS)) for p in SCHEMAS.rglob("*.json")}
    assert on_disk == set(files), "stale or missing schema files; run `make schemas`"


def test_schemas_are_deterministic() -> None:
    assert build_schemas() == build_schemas()


def _validator(name: str) -> jsonschema.protocols.Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def _schema_for(frame: dict[str, Any]) -> str:
    tag = message_tag(frame)
    if tag in ("pong", "ping.false"):
        return "methods/ping.response.json"
    if tag == "error.false":
        return "server_message.json"
    if tag.endswith((".true", ".false")):
        return f"methods/{tag.rsplit('.', 1)[0]}.response.json"
    return f"channels/{tag}.json"


# Same exclusions as tests/models/test_roundtrip.py: off-spec fixtures the models refuse.
OFF_SPEC_LINES = {4877, 4878}


def test_every_fixture_validates_against_its_schema() -> None:
    validators: dict[str, jsonschema.protocols.Validator] = {}
    reference = load_jsonl("reference_frames.jsonl")
    frames = [line["frame"] for line in reference if line["dir"] == "server"]
    # Frames whose numbers are JSON strings (doc paraphrases, early nautilus fixtures) are typed by
    # the lenient models but are not wire-shaped, so the schema (numbers) rightly refuses them.
    string_numbers = {
        note["line"]
        for note in load_jsonl("third_party_server_frames.notes.jsonl")
        if any(flag.startswith("string-number:") for flag in note["flags"])
    }
    frames += [
        line["frame"]
        for number, line in enumerate(load_jsonl("third_party_server_frames.jsonl"), start=1)
        if number not in OFF_SPEC_LINES and number not in string_numbers
    ]
    checked = 0
    for frame in frames:
        name = _schema_for(frame)
        validator = validators.get(name) or validators.setdefault(name, _validator(name))
        errors = list(validator.iter_errors(frame))
        assert not errors, (name, errors[0].message, json.dumps(frame, default=str)[:200])
        checked += 1
    assert checked > 5400


@pytest.mark.parametrize("name", ["server_message.json", "client_request.json"])
def test_union_schemas_are_valid_json_schema(name: str) -> None:
    _validator(name)


def test_client_requests_validate_against_request_schema() -> None:
    validator = _validator("client_request.json")
    for line in load_jsonl("reference_frames.jsonl"):
        if line["dir"] == "client":
            assert not list(validator.iter_errors(line["frame"])), line["frame"]
