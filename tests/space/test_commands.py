"""citygrid import_coverage / export_coverage / demo loader."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from citygrid.space.demo import load_demo
from citygrid.space.domain.demo_city import CityPlan
from citygrid.space.models import Area, ResponsibilityGrid, UnitGrid

pytestmark = pytest.mark.django_db


def test_export_then_import(tmp_path: Path, small_city: CityPlan) -> None:
    out = tmp_path / "all.geojson"
    call_command("export_coverage", str(out), verbosity=0, stdout=io.StringIO())
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert len(doc["features"]) == len(small_city.areas) + len(small_city.grids)
    stdout = io.StringIO()
    call_command("import_coverage", str(out), verbosity=0, stdout=stdout)
    assert "0 new versions" in stdout.getvalue()


def test_export_one_level(tmp_path: Path, small_city: CityPlan) -> None:
    out = tmp_path / "d.geojson"
    call_command("export_coverage", str(out), "--level", "district", verbosity=0, stdout=io.StringIO())
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert {f["properties"]["level"] for f in doc["features"]} == {"district"}


def test_export_to_stdout(small_city: CityPlan, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("export_coverage", "-", "--level", "city", verbosity=0)
    doc = json.loads(capsys.readouterr().out)
    assert [f["properties"]["code"] for f in doc["features"]] == ["510100"]


def test_bad_file_exit_code_2(tmp_path: Path, small_city: CityPlan) -> None:
    out = tmp_path / "g.geojson"
    call_command("export_coverage", str(out), "--level", "grid", verbosity=0, stdout=io.StringIO())
    doc = json.loads(out.read_text(encoding="utf-8"))
    doc["features"][0]["geometry"]["coordinates"][0] = [
        [x + 0.0003, y] for x, y in doc["features"][0]["geometry"]["coordinates"][0]]
    out.write_text(json.dumps(doc), encoding="utf-8")
    stderr = io.StringIO()
    with pytest.raises(CommandError) as err:
        call_command("import_coverage", str(out), verbosity=0, stderr=stderr, stdout=io.StringIO())
    assert err.value.returncode == 2
    assert doc["features"][0]["id"] in stderr.getvalue()
    assert UnitGrid.objects.filter(valid_to__isnull=False).count() == 0


@pytest.mark.parametrize("content", [None, b"{oops", b'{"type": "Feature"}'])
def test_unreadable_input_exit_code_2(tmp_path: Path, content: bytes | None) -> None:
    path = tmp_path / "x.geojson"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CommandError) as err:
        call_command("import_coverage", str(path), verbosity=0, stderr=io.StringIO())
    assert err.value.returncode == 2


def test_load_demo_small_then_skip() -> None:
    out = io.StringIO()
    load_demo(out, size="small")
    assert Area.objects.filter(code="510100").exists()
    assert ResponsibilityGrid.objects.count() == 8
    n = UnitGrid.objects.count()
    load_demo(out, size="small")
    assert UnitGrid.objects.count() == n
    assert "skipped" in out.getvalue()

