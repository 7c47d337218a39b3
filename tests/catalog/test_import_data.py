"""Loading the published standards: counts per set, kind + code key, provenance, samples."""

import csv
import hashlib
import re
from collections import Counter
from pathlib import Path

import pytest

from citygrid.catalog import actions, selectors
from citygrid.catalog.models import Category, HandlingTimeLimit, Standard, StepTimeLimit
from citygrid.catalog.sheets import DATA_DIR, NATIONAL_CSV
from citygrid.core.errors import Conflict, PermissionDenied

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "standards"
NEW = "GB/T 47678.5-2026"
OLD = "CJ/T 214-2007 / GB/T 30428.2-2013"


def csv_rows() -> list[dict[str, str]]:
    with NATIONAL_CSV.open(encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("name", ["categories.csv", "sample_standards.csv"])
def test_packaged_data_is_a_verbatim_copy(name: str) -> None:
    digest = hashlib.sha256((DATA_DIR / name).read_bytes()).hexdigest()
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    assert re.search(rf"\| {re.escape(name)} \|.*\| {digest} \|", readme)
    if (SHARED / name).exists():  # next to the clone in CI and on the team's machines
        assert digest == hashlib.sha256((SHARED / name).read_bytes()).hexdigest()


@pytest.mark.django_db
def test_counts_per_set_match_the_csv() -> None:
    rows = csv_rows()
    expected_minors = Counter((r["standard"], r["kind"]) for r in rows if r["minor_code"])
    expected_majors = Counter(
        (s, k) for s, k, _ in {(r["standard"], r["kind"], r["major_code"]) for r in rows})
    counts = actions.import_national_standards()
    assert set(counts) == set(expected_majors)
    for key, count in counts.items():
        assert (count.majors, count.minors) == (expected_majors[key], expected_minors[key])
        standard = Standard.objects.get(code=key[0])
        stored = standard.categories.filter(kind=key[1])
        assert stored.filter(level="major").count() == expected_majors[key]
        assert stored.filter(level="minor").count() == expected_minors[key]
    # the shapes the README describes
    assert (counts[(OLD, "component")].majors, counts[(OLD, "component")].minors) == (6, 85)
    assert (counts[(OLD, "event")].majors, counts[(OLD, "event")].minors) == (6, 54)
    assert (counts[(NEW, "component")].majors, counts[(NEW, "component")].minors) == (5, 153)
    assert (counts[(NEW, "event")].majors, counts[(NEW, "event")].minors) == (10, 250)


@pytest.mark.django_db
def test_import_is_idempotent_and_keeps_provenance() -> None:
    actions.import_national_standards()
    total = Category.objects.count()
    actions.import_national_standards()
    assert Category.objects.count() == total == len(csv_rows()) + 27 - 1  # + majors - major row
    new = Standard.objects.get(code=NEW)
    assert new.is_national and new.status == "active" and new.year == 2026
    uncertain = selectors.category_by_code(Standard.objects.get(code=OLD), "component", "0311")
    assert uncertain.confidence == "uncertain" and "UNCERTAIN" in uncertain.note
    lonely_major = selectors.category_by_code(Standard.objects.get(code=OLD), "event", "06")
    assert lonely_major.level == "major" and not lonely_major.children.exists()
    assert lonely_major.confidence == "uncertain"


@pytest.mark.django_db
def test_components_and_events_share_codes_in_2026() -> None:
    actions.import_national_standards()
    new = Standard.objects.get(code=NEW)
    component = selectors.category_by_code(new, "component", "01001")
    event = selectors.category_by_code(new, "event", "01001")
    assert (component.name, event.name) == ("供水井盖", "供水井盖异常")
    assert component.pk != event.pk
    shared = new.categories.filter(level="minor", kind="component").values_list("code", flat=True)
    assert new.categories.filter(kind="event", code__in=list(shared)).count() == 153


@pytest.mark.django_db
def test_national_standards_are_read_only() -> None:
    actions.import_national_standards()
    category = selectors.category_by_code(Standard.objects.get(code=NEW), "event", "06010")
    with pytest.raises(Conflict) as info:
        actions.rename_category(category, "垃圾")
    assert info.value.code == "standard_not_editable"


@pytest.mark.django_db
def test_import_needs_permission(outsider, editor) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        actions.import_national_standards(user=outsider)
    assert not Standard.objects.exists()
    actions.import_national_standards(user=editor)
    assert Standard.objects.count() == 2


@pytest.mark.django_db
def test_sample_standards() -> None:
    actions.import_sample_standards()
    actions.import_sample_standards()  # idempotent
    assert Standard.objects.filter(code__startswith="SAMPLE").count() == 4
    jiyuan = Standard.objects.get(code="SAMPLE 济源市")
    garbage = jiyuan.categories.get(name="暴露垃圾")
    assert garbage.code.startswith(garbage.parent.code) and garbage.level == "minor"
    assert garbage.filing_condition == "成堆、成片的垃圾" and garbage.closing_condition == "清除"
    assert str(selectors.handling_limit(garbage)) == "1 working days"
    unnamed = Standard.objects.get(code="SAMPLE unnamed city")
    building = selectors.category_by_code(unnamed, "event", "0101")
    limit = building.handling_limits.get(urgency="ordinary")
    assert str(limit.duration) == "4 working hours" and "处罚7" in limit.note
    water = unnamed.categories.get(name="道路保洁（路面积水）")
    assert water.level == "fine" and water.parent.code == "0104"
    taiyuan = Standard.objects.get(code="SAMPLE 太原市")
    cover = taiyuan.categories.get(name="污水井盖（丢失）")
    assert cover.handling_limits.get().unit_uncertain
    assert not HandlingTimeLimit.objects.filter(category__standard=jiyuan,
                                                unit_uncertain=True).exists()
    assert str(selectors.step_limit(taiyuan, "file", "urgent")) == "10 minutes"
    assert str(selectors.step_limit(taiyuan, "dispatch", "ordinary")) == "30 minutes"
    assert str(selectors.step_limit(taiyuan, "check", "ordinary", "rural")) == "2 hours"
    assert str(selectors.step_limit(taiyuan, "check", "urgent", "urban")) == "1 hours"
    guzhen = Standard.objects.get(code="SAMPLE 固镇县")
    assert str(selectors.step_limit(guzhen, "accept")) == "0.5 working days"
    assert StepTimeLimit.objects.filter(standard=guzhen).count() == 1


@pytest.mark.django_db
def test_reimport_keeps_a_retired_national_standard_retired() -> None:
    actions.import_national_standards()
    old = Standard.objects.get(code=OLD)
    actions.retire_standard(old)
    actions.import_national_standards()
    old.refresh_from_db()
    assert old.status == "retired"
    assert selectors.active_standard().code == NEW
