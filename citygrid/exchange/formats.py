"""Open311 output in JSON or XML. XML is built with xml.etree (escaping by construction);
lists take the element names the GeoReport v2 specification gives their items."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

from django.http import HttpResponse
from django.utils import timezone

ITEM_TAGS = {
    "services": "service", "attributes": "attribute", "values": "value",
    "service_requests": "request", "errors": "error", "endpoints": "endpoint",
    "formats": "format",
}
# Characters XML 1.0 cannot carry at all (a client's text may hold them).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def iso(value: datetime | None) -> str | None:
    """ISO 8601 with the zone, in the server's time zone, to the second."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _element(tag: str, value: Any) -> ET.Element:
    element = ET.Element(tag)
    if isinstance(value, dict):
        for key, item in value.items():
            element.append(_element(key, item))
    elif isinstance(value, list | tuple):
        child = ITEM_TAGS.get(tag, "item")
        for item in value:
            element.append(_element(child, item))
    else:
        element.text = _text(value)
    return element


def to_xml(root: str, value: Any) -> bytes:
    body = ET.tostring(_element(root, value), encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode()


def render(data: Any, fmt: str, root: str, status: int = 200) -> HttpResponse:
    """`data` is what the JSON carries; in XML it sits under the `root` element."""
    if fmt == "json":
        body = json.dumps(data, ensure_ascii=False).encode()
        return HttpResponse(body, status=status, content_type="application/json; charset=utf-8")
    return HttpResponse(to_xml(root, data), status=status, content_type="text/xml; charset=utf-8")


def error(fmt: str, status: int, description: str) -> HttpResponse:
    return render([{"code": status, "description": description}], fmt, "errors", status=status)
