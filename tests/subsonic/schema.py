"""Every Subsonic answer the tests see, checked against the official schemas.

The schemas are published specifications kept as test fixtures in ``tests/subsonic/specs/``
(``SUBSONIC_SPECS`` names another folder, to test against newer ones): the Subsonic 1.16.1
XSD, the same extended with what OpenSubsonic documents
(``subsonic-rest-api-1.16.1+opensubsonic.xsd``) and OpenSubsonic's OpenAPI schemas
(``opensubsonic/openapi``, the commit in ``opensubsonic/COMMIT``). A folder without them is
an error, not a reason to check nothing.

- XML answers are validated against the extended XSD.
- JSON (and JSONP) answers are validated against the method's OpenSubsonic response schema
  (types, required fields), and, since those schemas allow any extra field, their XML form
  (``json_to_xml``: objects are elements, scalars attributes, arrays repeated elements,
  ``value`` the text) against the XSD too: a field neither schema documents fails either way.
- That a method's JSON holds the same data as its XML is ``helpers.assert_same``.

``ALLOWED_EXTRA`` is the short list of attributes kept although neither schema documents them,
each with the client that needs it. The hooks (``tests/conftest.py``) run ``check_http`` on
every ``/rest/`` answer of Django's test client (through the ASGI application too) and of
``urllib`` (the live-server tests and py-sonic).
"""
from __future__ import annotations

import json
import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
NS = "http://subsonic.org/restapi"
XSD_NAME = "subsonic-rest-api-1.16.1+opensubsonic.xsd"

# Attributes kept although neither Subsonic 1.16.1 nor OpenSubsonic documents them:
# {(element, attribute): the reason}. Empty: every answer is within the schemas.
ALLOWED_EXTRA: dict[tuple[str, str], str] = {}

# Methods whose success may be the bare envelope although OpenSubsonic's schema asks for an
# element: {method: the reason}.
ALLOWED_EMPTY: dict[str, str] = {
    "getPlayQueue": "no queue saved yet: Subsonic and Navidrome answer the bare envelope, and the "
                    "playQueue element would need a change time and a client that do not exist",
}


def _specs_dir() -> Path:
    folder = Path(os.environ.get("SUBSONIC_SPECS") or Path(__file__).resolve().parent / "specs")
    if not ((folder / XSD_NAME).is_file() and (folder / "opensubsonic" / "openapi").is_dir()):
        raise RuntimeError(f"the Subsonic schemas are not in {folder} (SUBSONIC_SPECS)")
    return folder


SPECS = _specs_dir()


class SchemaError(AssertionError):
    pass


# -- XML ------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _xsd():
    from lxml import etree

    return etree.XMLSchema(etree.parse(str(SPECS / XSD_NAME)))


def validate_xml(body: bytes, *, what: str = "answer") -> None:
    from lxml import etree

    document = etree.fromstring(body)
    if ALLOWED_EXTRA:
        for element in document.iter():
            name = etree.QName(element).localname
            for attribute in list(element.attrib):
                if (name, attribute) in ALLOWED_EXTRA:
                    del element.attrib[attribute]
    schema = _xsd()
    if not schema.validate(document):
        errors = "\n".join(f"  line {e.line}: {e.message}" for e in schema.error_log)
        raise SchemaError(f"XML {what} is outside the Subsonic/OpenSubsonic XSD:\n{errors}\n{body[:3000]!r}")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@lru_cache(maxsize=1)
def _text_children() -> dict[str, frozenset[str]]:
    """Per element name, the children the XSD declares as elements of a simple type
    (``artistInfo``'s ``<biography>`` and image URLs...): in JSON they are plain strings,
    like attributes (``musicBrainzId`` is an element in ``artistInfo``, an attribute in
    ``album``)."""
    from lxml import etree

    xs = "{http://www.w3.org/2001/XMLSchema}"
    tree = etree.parse(str(SPECS / XSD_NAME))
    own: dict[str, set[str]] = {}
    bases: dict[str, str] = {}
    for complex_type in tree.iter(f"{xs}complexType"):
        name = complex_type.get("name")
        if not name:
            continue
        own[name] = {e.get("name") for e in complex_type.iter(f"{xs}element")
                     if e.get("name") and (e.get("type") or "").startswith("xs:")}
        extension = next(complex_type.iter(f"{xs}extension"), None)
        if extension is not None:
            bases[name] = extension.get("base").split(":")[-1]

    def of_type(name: str) -> set[str]:
        names = set(own.get(name, ()))
        if name in bases:
            names |= of_type(bases[name])
        return names

    children: dict[str, set[str]] = {}
    for element in tree.iter(f"{xs}element"):
        name, kind = element.get("name"), element.get("type") or ""
        if name and kind.startswith("sub:"):
            children.setdefault(name, set()).update(of_type(kind.split(":")[-1]))
    return {name: frozenset(names) for name, names in children.items() if names}


def json_to_xml(response: dict[str, Any]) -> bytes:
    """The XML form of a JSON ``subsonic-response`` (Subsonic's JSON is this mapping of its XML)."""
    from lxml import etree

    text_children = _text_children()

    def build(name: str, value: Any):
        element = etree.Element(f"{{{NS}}}{name}", nsmap={None: NS})
        if not isinstance(value, dict):
            element.text = _text(value)
            return element
        for key, item in value.items():
            if key == "value":
                element.text = _text(item)
            elif isinstance(item, dict):
                element.append(build(key, item))
            elif isinstance(item, list):
                for entry in item:
                    element.append(build(key, entry))
            elif key in text_children.get(name, ()):
                element.append(build(key, item))
            else:
                element.set(key, _text(item))
        return element

    return etree.tostring(build("subsonic-response", response))


# -- JSON -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _openapi() -> Path:
    return SPECS / "opensubsonic" / "openapi"


@lru_cache(maxsize=1)
def _endpoint_files() -> dict[str, Path]:
    return {path.stem.lower(): path for path in (_openapi() / "endpoints").glob("*.json")}


@lru_cache(maxsize=None)
def _load(path: str) -> Any:
    return json.loads(Path(path).read_text())


def _registry():
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT7

    def retrieve(uri: str):
        return Resource.from_contents(_load(uri.removeprefix("file://")), default_specification=DRAFT7)

    return Registry(retrieve=retrieve)


@lru_cache(maxsize=None)
def _response_schema(method: str) -> tuple[str, dict]:
    """``(file uri, schema)`` of the JSON answer of ``method`` (any case), or of any answer."""
    generic = _openapi() / "schemas" / "SubsonicResponse.json"
    endpoint = _endpoint_files().get(method.lower())
    target: Any = (_load(str(endpoint)).get("get") or {})["responses"]["200"] if endpoint else None
    base = endpoint
    while target is not None and "$ref" in target and "content" not in target:  # a response behind a $ref
        base = (base.parent / target["$ref"]).resolve()
        target = _load(str(base))
    schema = ((target or {}).get("content") or {}).get("application/json", {}).get("schema")
    if schema is None:  # binary answers (stream, getCoverArt...): JSON only for errors
        return generic.as_uri(), _load(str(generic))
    if "$ref" in schema:
        base = (base.parent / schema["$ref"]).resolve()
        return base.as_uri(), _load(str(base))
    return base.as_uri() + "#/get/responses/200/content/application~1json/schema", schema


@lru_cache(maxsize=None)
def _validator(method: str):
    from jsonschema import Draft7Validator

    uri, _schema = _response_schema(method)
    return Draft7Validator({"$ref": uri}, registry=_registry())


def validate_json(method: str, document: dict[str, Any], *, what: str = "answer") -> None:
    body = document.get("subsonic-response") or {}
    base_keys = {"status", "version", "type", "serverVersion", "openSubsonic"}
    if method in ALLOWED_EMPTY and body.get("status") == "ok" and set(body) <= base_keys:
        method = "ping"  # the bare envelope, as ping answers it
    validator = _validator(method)
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    if errors:
        # oneOf (success or failure) hides the cause: show the deepest errors of its branches.
        lines = []
        for error in errors:
            leaves = [error]
            while leaves and leaves[0].context:
                leaves = sorted(leaves[0].context, key=lambda e: -len(list(e.absolute_path)))
            for leaf in leaves[:3]:
                lines.append(f"  at {'/'.join(map(str, leaf.absolute_path))}: {leaf.message}")
        raise SchemaError(f"JSON {what} of {method} is outside OpenSubsonic's schema:\n" + "\n".join(lines)
                          + f"\n{json.dumps(document)[:3000]}")
    validate_xml(json_to_xml(document["subsonic-response"]), what=f"{what} (the XML form of the JSON of {method})")


# -- the hooks' entry point --------------------------------------------------------------------

_METHOD = re.compile(r"^/rest/([^/?]+?)(?:\.view)?/?$")
_JSONP = re.compile(rb"^\s*[A-Za-z_$][\w$.]*\((.*)\);?\s*$", re.S)


def check_http(path: str, content_type: str, body: bytes) -> None:
    """Validate one HTTP answer of ``/rest/<method>`` (audio, images and the browser's
    ``/rest/credentials`` are not Subsonic envelopes and are left alone)."""
    match = _METHOD.match(path)
    if not match or match.group(1) == "credentials" or not body:
        return
    method = match.group(1)
    content_type = content_type.split(";")[0].strip().lower()
    if content_type in ("text/xml", "application/xml"):
        validate_xml(body, what=f"answer of {method}")
    elif content_type == "application/json":
        validate_json(method, json.loads(body))
    elif content_type == "application/javascript":
        found = _JSONP.match(body)
        assert found, f"JSONP answer of {method} is not callback(...): {body[:200]!r}"
        validate_json(method, json.loads(found.group(1)))
