from pathlib import Path

from chainstore.core.management.commands.openapi import openapi_text

COMMITTED = Path(__file__).resolve().parents[4] / "docs" / "openapi.json"


def test_committed_openapi_document_matches_the_code():
    assert COMMITTED.exists(), "docs/openapi.json is missing: run `make openapi`"
    assert COMMITTED.read_text(encoding="utf-8") == openapi_text(), (
        "docs/openapi.json is out of date: run `make openapi` and commit it"
    )
