"""Building the Content-Security-Policy header (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from urllib.parse import urlsplit

TIANDITU_ORIGIN = "https://*.tianditu.gov.cn"


def origin_of(url: str) -> str | None:
    """The scheme://host[:port] of a tile URL template; a Leaflet `{s}` subdomain becomes `*`.
    None for relative URLs (served by us: 'self' covers them) and for unusable ones."""
    url = url.strip()
    if not url.startswith(("https://", "http://")):
        return None
    parts = urlsplit(url.replace("{s}", "x-sub-x"))
    if not parts.hostname:
        return None
    host = parts.netloc.replace("x-sub-x", "*")
    if any(ch in host for ch in "{}\"'; ,"):
        return None
    return f"{parts.scheme}://{host}"


def tile_origins(preset: str, custom_url: str) -> list[str]:
    if preset == "tianditu":
        return [TIANDITU_ORIGIN]
    if preset == "custom":
        found = origin_of(custom_url)
        return [found] if found else []
    return []


def build_policy(*, nonce: str, img_sources: Sequence[str] = (),
                 connect_sources: Iterable[str] = ()) -> str:
    """Self only for scripts, styles, fonts and requests (plus a per-response nonce for the few
    inline blocks that carry it); images from self, data:/blob: URLs and the map tile hosts;
    nothing may frame us, no plugins, forms post only to us."""
    nonce_src = f"'nonce-{nonce}'"
    directives = [
        ("default-src", ["'self'"]),
        ("script-src", ["'self'", nonce_src]),
        ("style-src", ["'self'", nonce_src]),
        ("img-src", ["'self'", "data:", "blob:", *img_sources]),
        ("font-src", ["'self'", "data:"]),
        ("connect-src", ["'self'", *connect_sources]),
        ("worker-src", ["'self'", "blob:"]),
        ("object-src", ["'none'"]),
        ("base-uri", ["'self'"]),
        ("form-action", ["'self'"]),
        ("frame-ancestors", ["'none'"]),
    ]
    return "; ".join(f"{name} {' '.join(dict.fromkeys(values))}" for name, values in directives)
