"""Spreadsheet import and export of classes: xlsx and CSV, per-row errors, all or nothing."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from openpyxl import Workbook, load_workbook

from citygrid.catalog import actions, selectors
from citygrid.catalog.domain.rules import SHEET_COLUMNS
from citygrid.catalog.models import Category, CategoryMapping, HandlingTimeLimit, Standard
from citygrid.catalog.sheets import read_sheet, write_csv, write_xlsx
from citygrid.core.errors import Conflict, ValidationFailed
from tests.catalog.conftest import cat

pytestmark = pytest.mark.django_db

GOOD = [
    ["event", "01", "市容环境", "0104", "积存垃圾", "", "", "成堆垃圾", "清除", "否",
     "4 工作时", "2 working hours"],
    ["event", "01", "市容环境", "0101", "暴露垃圾（含垃圾桶外）", "010101", "垃圾成堆", "",
     "", "yes", "2 hours", ""],
    ["component", "02", "道路交通", "0201", "停车场", "", "", "", "", "0", "1 working day", ""],
]
BAD = [
    ["event", "01", "市容环境", "0105", "新类", "", "", "", "", "", "2 fortnights", ""],
    ["incident", "01", "", "0106", "x", "", "", "", "", "", "", ""],
    ["event", "01", "", "0201", "错位", "", "", "", "", "", "", ""],
    ["event", "01", "", "0107", "", "", "", "", "", "", "", ""],
]


def xlsx(rows: list[list[str]]) -> io.BytesIO:
    book = Workbook()
    sheet = book.active
    sheet.append(list(SHEET_COLUMNS))
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    buffer.seek(0)
    return buffer


def csv_file(rows: list[list[str]]) -> io.BytesIO:
    return io.BytesIO(write_csv([dict(zip(SHEET_COLUMNS, row, strict=True)) for row in rows]))


@pytest.fixture
def city(base: Standard) -> Standard:
    return actions.derive_standard(base, "CITY-1", "城市标准")


@pytest.mark.parametrize(("make", "name"), [(xlsx, "c.xlsx"), (csv_file, "c.csv")])
def test_import_good_rows(city: Standard, make, name: str) -> None:  # type: ignore[no-untyped-def]
    result = actions.import_categories(city, read_sheet(make(GOOD), name))
    assert (result.created, result.updated) == (4, 1)  # 0104, 010101, component 02, 0201; 0101 renamed
    new = cat(city, "0104")
    assert (new.name, new.filing_condition, new.closing_condition) == ("积存垃圾", "成堆垃圾", "清除")
    assert str(selectors.handling_limit(new)) == "4 working hours"
    assert str(selectors.handling_limit(new, "urgent")) == "2 working hours"
    fine = cat(city, "010101")
    assert fine.level == "fine" and fine.parent == cat(city, "0101") and fine.is_emergency
    assert "emergency" in fine.urgency_levels
    assert cat(city, "0101").name == "暴露垃圾（含垃圾桶外）"
    assert cat(city, "0201", "component").parent.code == "02"
    mapped = CategoryMapping.objects.filter(to_category__standard=city)
    assert mapped.get(to_category=new).relation == "new"
    assert mapped.get(to_category=cat(city, "0101")).relation == "renamed"


@pytest.mark.parametrize(("make", "name"), [(xlsx, "c.xlsx"), (csv_file, "c.csv")])
def test_any_bad_row_writes_nothing(city: Standard, make, name: str) -> None:  # type: ignore[no-untyped-def]
    before = (Category.objects.count(), HandlingTimeLimit.objects.count(),
              CategoryMapping.objects.count())
    with pytest.raises(ValidationFailed) as info:
        actions.import_categories(city, read_sheet(make(GOOD + BAD), name))
    assert info.value.code == "import_failed"
    problems = {(d["row"], d["column"]) for d in info.value.details}
    assert problems == {(5, "limit_ordinary"), (6, "kind"), (7, "minor_code"), (8, "minor_name")}
    assert all(d["message"] for d in info.value.details)
    after = (Category.objects.count(), HandlingTimeLimit.objects.count(),
             CategoryMapping.objects.count())
    assert after == before
    assert cat(city, "0101").name == "暴露垃圾"


def test_unreadable_files(city: Standard) -> None:
    with pytest.raises(ValidationFailed):
        read_sheet(io.BytesIO(b"not a workbook"), "c.xlsx")
    with pytest.raises(ValidationFailed):
        read_sheet(io.BytesIO(b"name,code\nx,1\n"), "c.csv")
    with pytest.raises(ValidationFailed):
        read_sheet(io.BytesIO(b"\xff\xfe"), "c.csv")
    with pytest.raises(ValidationFailed):
        read_sheet(io.BytesIO(b""), "c.pdf")


def test_import_into_active_standard_is_refused(base: Standard) -> None:
    with pytest.raises(Conflict):
        actions.import_categories(base, read_sheet(csv_file(GOOD), "c.csv"))


def test_export_imports_back_unchanged(city: Standard) -> None:
    actions.import_categories(city, read_sheet(csv_file(GOOD), "c.csv"))
    rows = selectors.export_rows(city.categories.all())
    assert len(rows) == city.categories.count()
    copy = Standard.objects.create(code="COPY", name="copy")
    actions.import_categories(copy, read_sheet(io.BytesIO(write_xlsx(rows)), "x.xlsx"))
    assert selectors.export_rows(copy.categories.all()) == rows


def test_command(city: Standard, tmp_path: Path) -> None:
    good, bad = tmp_path / "good.xlsx", tmp_path / "bad.csv"
    good.write_bytes(xlsx(GOOD).getvalue())
    bad.write_bytes(csv_file(BAD).getvalue())
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError) as info:
        call_command("import_categories", str(bad), standard="CITY-1", stdout=out, stderr=err)
    assert info.value.returncode == 2 and "row 2, limit_ordinary" in err.getvalue()
    with pytest.raises(CommandError) as info:
        call_command("import_categories", str(good), standard="NOPE")
    assert info.value.returncode == 2
    with pytest.raises(CommandError) as info:
        call_command("import_categories", str(tmp_path / "missing.csv"), standard="CITY-1")
    assert info.value.returncode == 2
    call_command("import_categories", str(good), standard="CITY-1", stdout=out)
    assert "4 classes created" in out.getvalue()
    target = tmp_path / "out.xlsx"
    call_command("export_categories", str(target), standard="CITY-1", stdout=out)
    sheet = load_workbook(target).active
    assert sheet.max_row == city.categories.count() + 1
