"""Base-map tile layers for Leaflet, built from the MAP_TILE_* settings (M-04).

Pure functions of their arguments so they are easy to test; `views.py` passes settings in.
"""

from __future__ import annotations

from typing import TypedDict
from urllib.parse import quote

PRESETS = ("", "tianditu", "custom")

# Tianditu WMTS in web mercator ("_w"). Its coordinates are CGCS2000, which agrees with WGS84
# to well under a metre, so our WGS84 boundaries sit on these tiles without any shift.
TIANDITU_URL = (
    "https://t{s}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0"
    "&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles"
    "&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk={key}"
)
TIANDITU_SUBDOMAINS = "01234567"
TIANDITU_ATTRIBUTION = "© 天地图 Tianditu"
TILE_PLACEHOLDERS = ("{z}", "{x}", "{y}")


class TileLayer(TypedDict):
    url: str
    subdomains: str
    attribution: str
    maxZoom: int


def tianditu_layers(key: str, language: str = "zh-hans") -> list[TileLayer]:
    """Vector base (vec) plus its annotation layer: Chinese (cva), or English (eva)."""
    label_layer = "eva" if language.startswith("en") else "cva"
    safe_key = quote(key, safe="")
    return [
        TileLayer(
            # Leaflet fills {s}, {z}, {x}, {y}; we fill only the layer and key here.
            url=TIANDITU_URL.replace("{layer}", layer).replace("{key}", safe_key),
            subdomains=TIANDITU_SUBDOMAINS,
            attribution=TIANDITU_ATTRIBUTION if layer == "vec" else "",
            maxZoom=18,
        )
        for layer in ("vec", label_layer)
    ]


def tile_problems(preset: str, tianditu_key: str, custom_url: str) -> list[str]:
    """What is wrong with the tile settings; empty when they are usable (or intentionally off)."""
    if preset not in PRESETS:
        return [f"MAP_TILE_PRESET={preset!r} is not one of {', '.join(repr(p) for p in PRESETS)}."]
    if preset == "tianditu" and not tianditu_key.strip():
        return ["MAP_TILE_PRESET='tianditu' needs TIANDITU_KEY."]
    if preset == "custom":
        if not custom_url.strip():
            return ["MAP_TILE_PRESET='custom' needs MAP_TILE_URL."]
        problems = []
        missing = [p for p in TILE_PLACEHOLDERS if p not in custom_url]
        if missing:
            problems.append(f"MAP_TILE_URL lacks {', '.join(missing)}.")
        if not custom_url.startswith(("https://", "http://", "/")):
            problems.append("MAP_TILE_URL must start with https://, http:// or /.")
        return problems
    return []


def tile_layers(
    preset: str,
    *,
    tianditu_key: str = "",
    custom_url: str = "",
    custom_attribution: str = "",
    language: str = "zh-hans",
) -> list[TileLayer]:
    """The layers to draw under our boundaries; empty means a plain background."""
    if tile_problems(preset, tianditu_key, custom_url):
        return []
    if preset == "tianditu":
        return tianditu_layers(tianditu_key.strip(), language)
    if preset == "custom":
        return [
            TileLayer(
                url=custom_url.strip(),
                subdomains="abc",
                attribution=custom_attribution,
                maxZoom=19,
            )
        ]
    return []
