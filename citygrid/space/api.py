"""Space API: geocoding, areas and grids by code, features in a bounding box."""

from ninja import Router

router = Router(tags=["space"])
