"""The history is a hash chain; edits are detected by `citygrid verify_history`."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from citygrid.cases import actions
from citygrid.cases.history import check_case_chain
from citygrid.cases.models import Case, CaseEvent

from .test_flows import report


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("verify_history", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exit_:
        code = exit_.code
    return code, out.getvalue() + err.getvalue()


@pytest.fixture
def cases(people, place):
    a = report(people, place)
    a = actions.file_case(people["shift_leader_jinjiang"], a.pk)
    a = actions.dispatch_case(people["dispatcher_jinjiang"], a.pk, department="510104-HW")
    b = report(people, place, who="city_inspector_2")
    b = actions.reject_case(people["shift_leader_jinjiang"], b.pk, reason="不符合立案条件")
    return a, b


def test_every_event_links_to_the_one_before(cases):
    a, _ = cases
    events = list(CaseEvent.objects.filter(case=a).order_by("seq"))
    assert [e.seq for e in events] == [1, 2, 3]
    assert events[0].prev_hash == "0" * 64
    assert all(e.prev_hash == p.hash for p, e in zip(events, events[1:], strict=False))
    assert Case.objects.get(pk=a.pk).history_head == events[-1].hash
    assert run() == (0, "OK: 2 case(s), every history chain intact.\n")


@pytest.mark.parametrize("change", [
    {"role": "dispatcher"},
    {"inputs": {"department": "510104-SZ", "copies": [], "note": ""}},
    {"to_state": "closed"},
    {"actor": None},
])
def test_an_edited_event_is_found(cases, change):
    a, _ = cases
    CaseEvent.objects.filter(case=a, seq=2).update(**change)
    code, text = run()
    assert code == 1
    assert f"BROKEN case {a.number}: event 2: content does not match its hash (edited)" in text


def test_a_shifted_time_is_found(cases):
    from datetime import timedelta

    a, _ = cases
    event = CaseEvent.objects.get(case=a, seq=3)
    CaseEvent.objects.filter(pk=event.pk).update(at=event.at - timedelta(hours=1))
    assert check_case_chain(a).seq == 3


def test_a_rehashed_edit_breaks_the_next_link(cases):
    """Recomputing the edited event's own hash does not help: the next event links the old one."""
    from citygrid.cases.actions import event_payload
    from citygrid.cases.domain.history import event_hash

    a, _ = cases
    CaseEvent.objects.filter(case=a, seq=2).update(role="dispatcher")
    edited = CaseEvent.objects.get(case=a, seq=2)
    CaseEvent.objects.filter(pk=edited.pk).update(
        hash=event_hash(edited.prev_hash, event_payload(edited, a.number)))
    broken = check_case_chain(Case.objects.get(pk=a.pk))
    assert (broken.seq, broken.reason) == (3, "previous-hash link does not match the event before it")


def test_a_deleted_last_event_is_found(cases):
    a, _ = cases
    CaseEvent.objects.filter(case=a, seq=3)._raw_delete(CaseEvent.objects.db)
    broken = check_case_chain(Case.objects.get(pk=a.pk))
    assert broken.seq == 3 and "last" in broken.reason


def test_events_cannot_be_changed_through_the_model(cases):
    a, _ = cases
    event = CaseEvent.objects.get(case=a, seq=1)
    event.role = "x"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()


def test_one_case_and_date_ranges(cases):
    a, b = cases
    CaseEvent.objects.filter(case=b, seq=2).update(role="dispatcher")
    assert run("--case", a.number)[0] == 0
    code, text = run("--case", b.number)
    assert code == 1 and b.number in text
    from django.utils import timezone

    day = timezone.localtime(a.created_at).date().isoformat()
    assert run("--from", day, "--to", day)[0] == 1
    assert run("--from", "2001-01-01", "--to", "2001-01-31") == (0, "OK: 0 case(s), every history chain intact.\n")


@pytest.mark.parametrize("args", [("--from", "yesterday"), ("--from", "2026-05-02", "--to", "2026-05-01"),
                                  ("--case", "nope")])
def test_bad_arguments_exit_2(cases, args):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as err:
        call_command("verify_history", *args, stdout=io.StringIO())
    assert err.value.returncode == 2
