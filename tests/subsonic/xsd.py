"""XML answers checked against the Subsonic schema extended with OpenSubsonic's additions.

The folder is ``SUBSONIC_SPECS`` (default ``../shared/specs/subsonic/`` beside the
repository); without it ``validate`` skips the test, saying so.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
XSD_NAME = "subsonic-rest-api-1.16.1+opensubsonic.xsd"


@functools.cache
def _schema():
    from lxml import etree

    folder = Path(os.environ.get("SUBSONIC_SPECS") or ROOT.parent / "shared" / "specs" / "subsonic")
    path = folder / XSD_NAME
    if not path.is_file():
        return None
    return etree.XMLSchema(etree.parse(str(path)))


def validate(body: bytes) -> None:
    """Fail unless the XML ``body`` is valid (skip when the schema folder is absent)."""
    from lxml import etree

    schema = _schema()
    if schema is None:
        pytest.skip(f"the Subsonic schema folder (SUBSONIC_SPECS, {XSD_NAME}) is absent")
    document = etree.fromstring(body)
    assert schema.validate(document), schema.error_log.last_error


@functools.cache
def _openapi_registry():
    import json

    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    folder = Path(os.environ.get("SUBSONIC_SPECS") or ROOT.parent / "shared" / "specs" / "subsonic") / "opensubsonic" / "openapi"
    if not folder.is_dir():
        return None, None

    def retrieve(uri: str):
        return Resource.from_contents(json.loads(Path(uri.removeprefix("file://")).read_text()), default_specification=DRAFT202012)

    return folder, Registry(retrieve=retrieve)


def validate_json(method: str, body: dict, *, tolerated: tuple[str, ...] = ()) -> None:
    """Fail unless ``body`` (the whole JSON answer) matches OpenSubsonic's schema of ``method``;
    errors whose messages contain one of ``tolerated`` (each with its reason at the caller) pass."""
    import jsonschema

    folder, registry = _openapi_registry()
    if folder is None:
        pytest.skip("the OpenSubsonic OpenAPI folder (SUBSONIC_SPECS/opensubsonic/openapi) is absent")
    import json

    endpoint = folder / "endpoints" / f"{method}.json"
    answer, base = json.loads(endpoint.read_text())["get"]["responses"]["200"], endpoint.parent
    if "$ref" in answer:  # a shared response (the empty one)
        shared = (base / answer["$ref"]).resolve()
        answer, base = json.loads(shared.read_text()), shared.parent
    path = (base / answer["content"]["application/json"]["schema"]["$ref"]).resolve()
    validator = jsonschema.Draft202012Validator({"$ref": path.as_uri()}, registry=registry)
    def leaves(error):
        return [leaf for sub in error.context for leaf in leaves(sub)] if error.context else [error]

    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    if tolerated:  # a oneOf (success or failure) error passes if its success branch fails only as tolerated
        def acceptable(error) -> bool:
            success = [leaf for leaf in leaves(error) if "'failed'" not in leaf.message and "'error'" not in leaf.message]
            return all(any(text in leaf.message for text in tolerated) for leaf in success)

        errors = [error for error in errors if not acceptable(error)]
    details = [f"{list(e.absolute_path)}: {e.message[:200]}; "
               + "; ".join(f"{list(c.absolute_path)} {c.message[:150]}" for c in (e.context or [])[:6]) for e in errors[:5]]
    assert not errors, (method, details)
