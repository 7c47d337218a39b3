"""Spreadsheet import: every row checked first, errors per row, nothing half-imported."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from openpyxl import Workbook

from citygrid.core.errors import PermissionDenied, ValidationFailed
from citygrid.org import sheets
from citygrid.org.models import Department, Person, ResponsibilityRule
from tests.org.conftest import user

pytestmark = pytest.mark.django_db


def csv_bytes(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(r) for r in rows).encode("utf-8")


def xlsx_bytes(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


HEADER = ["code", "name", "level", "kind", "area_code", "parent_code"]


def test_departments_import_all_or_nothing(org_city: Any) -> None:
    before = Department.objects.count()
    bad = csv_bytes([HEADER,
                     ["NEW-1", "新部门一", "district", "government", "510104", "510104-CGJ"],
                     ["NEW-2", "新部门二", "province", "government", "510104", ""],
                     ["NEW-3", "新部门三", "district", "government", "999999", "NOPE"],
                     ["NEW-1", "重复", "district", "government", "510104", ""]])
    with pytest.raises(ValidationFailed) as e:
        sheets.import_file(None, "departments", bad, "d.csv")
    problems = {(d["row"], d["column"]) for d in e.value.details}
    assert {(3, "level"), (4, "area_code"), (4, "parent_code"), (5, "code")} <= problems
    assert Department.objects.count() == before
    good = xlsx_bytes([HEADER,
                       ["NEW-CHILD", "子部门", "district", "government", "510104", "NEW-PARENT"],
                       ["NEW-PARENT", "父部门", "district", "government", "510104", ""]])
    report = sheets.import_file(None, "departments", good, "d.xlsx")
    assert (report.created, report.updated) == (2, 0)
    assert Department.objects.get(code="NEW-CHILD").parent == Department.objects.get(code="NEW-PARENT")


def test_a_refusal_while_writing_rolls_back_every_row(org_city: Any) -> None:
    """Rows that pass the row checks but break a domain rule on save: nothing stays."""
    before = Department.objects.count()
    data = csv_bytes([HEADER,
                      ["OK-1", "可以", "district", "government", "510104", ""],
                      ["BAD-CC", "错误指挥中心", "city", "command_centre", "510100", ""]])
    with pytest.raises(ValidationFailed) as e:
        sheets.import_file(None, "departments", data, "d.csv")
    assert e.value.details[0]["row"] == 3
    assert Department.objects.count() == before


def test_import_respects_the_actor_scope(org_city: Any) -> None:
    data = csv_bytes([HEADER, ["QY-NEW", "青羊新部门", "district", "government", "510105", ""]])
    with pytest.raises(PermissionDenied):
        sheets.import_file(user("administrator_jinjiang"), "departments", data, "d.csv")
    sheets.import_file(user("administrator_qingyang"), "departments", data, "d.csv")
    assert Department.objects.filter(code="QY-NEW").exists()


def test_people_import_never_takes_passwords(org_city: Any) -> None:
    header = ["username", "display_name", "department_code", "roles", "scope_areas", "password"]
    with pytest.raises(ValidationFailed) as e:
        sheets.import_file(None, "people", csv_bytes([header, ["p1", "甲", "510104-HW", "handler", "", "secret"]]), "p.csv")
    assert {(d["row"], d["column"]) for d in e.value.details} == {(2, "password"), (2, "roles")}
    assert not User.objects.filter(username="p1").exists()
    header = header[:-1]
    rows = [header, ["p1", "甲", "510104-HW", "handler dispatcher", "510104"],
            ["p2", "乙", "510104-HW", "", ""]]
    report = sheets.import_file(None, "people", xlsx_bytes(rows), "p.xlsx")
    assert report.created == 2
    p1 = Person.objects.get(user__username="p1")
    assert not p1.user.has_usable_password()
    assert set(p1.roles.values_list("role", flat=True)) == {"handler", "dispatcher"}
    assert set(p1.user.groups.values_list("name", flat=True)) == {"handler", "dispatcher"}
    exported = sheets.people_rows(Person.objects.filter(user__username="p1"))
    assert exported[0]["roles"] == "dispatcher handler" and exported[0]["scope_areas"] == "510104"


def test_rules_import_and_export_round_trip(org_city: Any) -> None:
    header = ["code", "kind", "class_code", "area_code", "weekdays", "time_from", "time_to",
              "source", "department_code", "copies", "process"]
    bad = csv_bytes([header,
                     ["R1", "event", "06001", "510104", "", "", "", "", "510104-HW", "", "flat"],
                     ["R2", "event", "77777", "510104", "8", "25:00", "", "pigeon", "NOPE", "", "slow"]])
    with pytest.raises(ValidationFailed) as e:
        sheets.import_file(None, "rules", bad, "r.csv")
    columns = {d["column"] for d in e.value.details if d["row"] == 3}
    assert {"class_code", "time_from", "source", "department_code", "process"} <= columns
    assert not ResponsibilityRule.objects.filter(code="R1").exists()
    good = csv_bytes([header,
                      ["R1", "event", "06001", "510104", "67", "08:00", "12:00", "hotline", "510104-HW",
                       "510104-ZH CITY-CGW", "flat"]])
    sheets.import_file(None, "rules", good, "r.csv")
    rule = ResponsibilityRule.objects.get(code="R1")
    assert rule.weekdays == "67" and rule.source == "hotline" and rule.copies.count() == 2
    row = sheets.rule_rows(ResponsibilityRule.objects.filter(code="R1"))[0]
    assert row["copies"] == "510104-ZH CITY-CGW" and row["time_from"] == "08:00"


def test_command_and_admin_import(org_city: Any, tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(csv_bytes([HEADER, ["X", "x", "nowhere", "government", "510104", ""]]))
    with pytest.raises(CommandError) as e:
        call_command("org_sheet", "import", "departments", str(path))
    assert e.value.returncode == 2 and "row 2, level" in str(e.value)
    out = tmp_path / "departments.xlsx"
    call_command("org_sheet", "export", "departments", str(out))
    assert out.stat().st_size > 0
    client = Client()
    client.force_login(user("administrator_jinjiang"))
    upload = io.BytesIO(csv_bytes([HEADER, ["JJ-NEW", "锦江新部门", "district", "government", "510104", ""]]))
    upload.name = "d.csv"
    response = client.post("/admin/org/department/import/", {"file": upload})
    assert response.status_code == 302
    assert Department.objects.filter(code="JJ-NEW").exists()
    upload = io.BytesIO(csv_bytes([HEADER, ["JJ-BAD", "坏", "district", "government", "999", ""]]))
    upload.name = "d.csv"
    page = client.post("/admin/org/department/import/", {"file": upload})
    assert page.status_code == 200 and "999" in page.content.decode()
    assert not Department.objects.filter(code="JJ-BAD").exists()
