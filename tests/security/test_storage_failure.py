"""Issue 10 item 4(c): storage unavailable or disk full on photo upload: a clear error, and no
case without its photo (nor a photo file without its case)."""

import io
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client

from citygrid.cases import actions
from citygrid.cases.models import Case, Photo
from tests.security.storage import FillsUpStorage
from tests.security.test_backup import load_demo, png


def storages(backend: str, root: str) -> dict:
    return {"default": {"BACKEND": backend, "OPTIONS": {"location": root}},
            "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}


@pytest.fixture
def city(db, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")
    load_demo()
    FillsUpStorage.saved = 0
    return tmp_path / "media"


@pytest.fixture
def full_disk(city, settings):
    settings.STORAGES = storages("tests.security.storage.FullDiskStorage", str(city))
    return city


def report(photos):
    from citygrid.space.models import Area, UnitGrid

    area = Area.objects.filter(code__startswith="510104002", level="community").order_by("code").first()
    point = UnitGrid.objects.filter(community=area).order_by("code").first().shape.representative_point()
    return actions.report_case(User.objects.get(username="city_inspector_1"), source="city_inspector",
                               kind="event", category_code="06002", lon=float(point.x),
                               lat=float(point.y), photos=photos)


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def test_no_case_is_left_without_its_photo(full_disk):
    with pytest.raises(Exception):  # noqa: B017 - StorageUnavailable; see the next test
        report([png("red")])
    assert (Case.objects.count(), Photo.objects.count()) == (0, 0)


def test_the_action_says_the_storage_is_unavailable(full_disk):
    from citygrid.core.errors import DomainError

    with pytest.raises(DomainError) as caught:
        report([png("red")])
    assert (caught.value.status, caught.value.code) == (503, "storage_unavailable")


def test_the_api_answers_503_storage_unavailable(full_disk):
    from citygrid.space.models import Area, UnitGrid

    area = Area.objects.filter(code__startswith="510104002", level="community").order_by("code").first()
    point = UnitGrid.objects.filter(community=area).order_by("code").first().shape.representative_point()
    client = Client(raise_request_exception=False)
    client.force_login(User.objects.get(username="city_inspector_1"))
    upload = io.BytesIO(png("red"))
    upload.name = "a.png"
    answer = client.post("/api/v1/cases/with-photos", {
        "source": "city_inspector", "kind": "event", "category_code": "06002",
        "lon": float(point.x), "lat": float(point.y), "photos": [upload]})
    assert (answer.status_code, answer.json()["code"]) == (503, "storage_unavailable")
    assert Case.objects.count() == 0


def test_a_disk_that_fills_up_mid_report_leaves_no_case(city, settings):
    settings.STORAGES = storages("tests.security.storage.FillsUpStorage", str(city))
    with pytest.raises(Exception):  # noqa: B017
        report([png("red"), png("blue")])
    assert (Case.objects.count(), Photo.objects.count()) == (0, 0)


def test_a_disk_that_fills_up_mid_report_leaves_no_orphan_file(city, settings):
    settings.STORAGES = storages("tests.security.storage.FillsUpStorage", str(city))
    with pytest.raises(Exception):  # noqa: B017
        report([png("red"), png("blue")])
    assert files_under(city) == []
