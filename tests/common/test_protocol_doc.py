"""docs/protocol.md and the registry agree (regenerate with `manage.py protocol --write`)."""
import re

from common import protocol
from common.errors import ERROR_CODES
from common.registry import registry


def test_protocol_document_matches_the_registry():
    text = protocol.document_path().read_text()
    assert protocol.current_reference(text) == protocol.render(), "run: manage.py protocol --write"


def test_document_names_every_action_event_and_error_code():
    text = protocol.document_path().read_text()
    headings = set(re.findall(r"^### `([a-z0-9_.]+)`$", text, flags=re.M))
    assert headings == set(registry.actions) | set(registry.events)
    for code in ERROR_CODES:
        assert f"`{code}`" in text
