"""The API documents itself, offline: OpenAPI 3 and a docs page with local assets."""

import pytest
from django.test import Client


@pytest.mark.django_db
def test_openapi_document_lists_every_router() -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = response.json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path in ["/api/v1/geocode", "/api/v1/geocode/batch", "/api/v1/grids/{code}",
                 "/api/v1/areas/{code}", "/api/v1/features", "/api/v1/route"]:
        assert path in paths, path


@pytest.mark.django_db
def test_docs_page_loads_no_third_party_host() -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "swagger-ui-bundle.js" in html
    assert "cdn." not in html and "https://" not in html.split("<body")[0]
