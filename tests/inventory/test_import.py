"""Import: row errors with row numbers, all or nothing, column mapping, formats."""

from __future__ import annotations

import json
from typing import Any

import pytest

from citygrid.core.errors import ValidationFailed
from citygrid.inventory import actions
from citygrid.inventory.models import Component, ImportBatch
from tests.inventory.conftest import csv_bytes, grid_points

HEADER = ["code", "name", "class", "lon", "lat", "owner", "state"]


def good_rows(plan: Any, count: int = 5) -> list[list[object]]:
    pts = grid_points(plan, "510104", count)
    return [[f"51010401002{i + 1:06d}", f"井盖{i}", "01002", lon, lat, "510104-SZ", "完好"]
            for i, (lon, lat) in enumerate(pts)]


def test_csv_import_creates_all(city: Any) -> None:
    result = actions.import_components(None, csv_bytes(HEADER, good_rows(city)), "a.csv")
    assert result.created == 5
    first = Component.objects.get(code="51010401002000001")
    assert first.owner is not None and first.owner.code == "510104-SZ"
    assert first.district is not None and first.district.code == "510104"
    assert first.grid.code.startswith("510104")
    assert first.state == "intact"
    assert first.import_batch == result.batch


def test_errors_reported_by_row_and_nothing_written(city: Any) -> None:
    rows = good_rows(city, 8)
    rows[1][0] = "51010401002000001"  # duplicate of row 2 → reported on row 3
    rows[2][2] = "09999"  # unknown class
    rows[3][5] = "NO-SUCH-DEPT"
    rows[4][3], rows[4][4] = 90.0, 30.0  # outside coverage
    rows[5][0] = "51010501002000006"  # district 510105 but lies in 510104
    rows[6][0] = "5101040100200007"  # 16 digits for a 5-digit class
    rows[7][6] = "broken"
    with pytest.raises(ValidationFailed) as info:
        actions.import_components(None, csv_bytes(HEADER, rows), "bad.csv")
    err = info.value
    assert err.code == "import_failed"
    by_row = {(d["row"], d["column"]) for d in err.details}
    assert by_row == {(3, "code"), (4, "class"), (5, "owner"), (6, "lon"), (7, "code"),
                      (8, "code"), (9, "state")}
    assert Component.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_duplicate_against_database(city: Any) -> None:
    rows = good_rows(city, 3)
    actions.import_components(None, csv_bytes(HEADER, rows[:1]), "one.csv")
    with pytest.raises(ValidationFailed) as info:
        actions.import_components(None, csv_bytes(HEADER, rows), "again.csv")
    assert [(d["row"], "already" in d["message"]) for d in info.value.details] == [(2, True)]
    assert Component.objects.count() == 1


def test_mapping(city: Any) -> None:
    rows = good_rows(city, 2)
    header = ["编号", "名称", "类别", "x", "y", "权属单位", "状态"]
    mapping = {"编号": "code", "类别": "class", "x": "lon", "y": "lat"}
    actions.import_components(None, csv_bytes(header, rows), "m.csv", mapping=mapping)
    c = Component.objects.get(code="51010401002000002")
    assert c.name == "井盖1" and c.owner is not None  # 名称/权属单位: standard Chinese names


def test_missing_mapping_is_a_file_error(city: Any) -> None:
    with pytest.raises(ValidationFailed) as info:
        actions.import_components(None, csv_bytes(["编号", "x"], [["1", "2"]]), "m.csv")
    assert info.value.code == "bad_mapping"


def test_geojson_and_xlsx_round_trip(city: Any) -> None:
    from citygrid.inventory import exporting

    rows = good_rows(city, 4)
    feats = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [r[3], r[4]]},
              "properties": {"code": r[0], "name": r[1], "class": r[2], "owner": r[5]}}
             for r in rows]
    data = json.dumps({"type": "FeatureCollection", "features": feats}).encode()
    assert actions.import_components(None, data, "a.geojson").created == 4
    for fmt in ("csv", "xlsx", "geojson"):
        blob = exporting.export_components(fmt)
        Component.objects.all().delete()
        ImportBatch.objects.all().delete()
        assert actions.import_components(None, blob, f"x.{fmt}").created == 4, fmt
    assert Component.objects.get(code=rows[0][0]).owner is not None


def test_geojson_feature_numbers_and_polygon(city: Any) -> None:
    (lon, lat), = grid_points(city, "510104", 1)
    d = 0.00005
    square = [[lon - d, lat - d], [lon + d, lat - d], [lon + d, lat + d], [lon - d, lat + d],
              [lon - d, lat - d]]
    feats = [
        {"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [square]},
         "properties": {"code": "51010403005000001", "class": "03005"}},
        {"type": "Feature", "geometry": None, "properties": {"code": "51010403005000002",
                                                              "class": "03005"}},
    ]
    data = json.dumps({"type": "FeatureCollection", "features": feats}).encode()
    with pytest.raises(ValidationFailed) as info:
        actions.import_components(None, data, "a.geojson")
    assert {d["row"] for d in info.value.details} == {2}
    actions.import_components(None, json.dumps(
        {"type": "FeatureCollection", "features": feats[:1]}).encode(), "a.geojson")
    c = Component.objects.get()
    assert c.geometry is not None and c.shape.geom_type == "Polygon"


def test_command(city: Any, tmp_path: Any) -> None:
    from django.core.management import call_command
    from django.core.management.base import CommandError

    path = tmp_path / "c.csv"
    rows = good_rows(city, 2)
    path.write_bytes(csv_bytes(["编号", "class", "x", "y"], [[r[0], r[2], r[3], r[4]] for r in rows]))
    call_command("import_components", str(path), "--map", "编号=code", "--map", "x=lon",
                 "--map", "y=lat", "--no-progress")
    assert Component.objects.count() == 2
    with pytest.raises(CommandError):
        call_command("import_components", str(path), "--map", "编号=code", "--map", "x=lon",
                     "--map", "y=lat", "--no-progress")
    out = tmp_path / "out.geojson"
    call_command("export_components", str(out))
    assert len(json.loads(out.read_text())["features"]) == 2
