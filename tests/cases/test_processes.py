"""The pure process module: every process well formed; transition checks; traffic lights;
the history hash chain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from citygrid.cases.domain import history
from citygrid.cases.domain.processes import (
    PROCESSES,
    Level,
    Operation,
    ProcessName,
    Role,
    State,
    TransitionError,
    check_transition,
    choose_process,
    get_process,
    reachable,
    traffic_light,
)

ALL = list(PROCESSES.values())
IDS = [p.name.value for p in ALL]


@pytest.mark.parametrize("process", ALL, ids=IDS)
def test_every_state_is_reachable_from_the_initial_state(process):
    assert reachable(process, process.initial) == process.states


@pytest.mark.parametrize("process", ALL, ids=IDS)
def test_every_open_state_can_reach_an_end(process):
    for state in process.open_states():
        assert reachable(process, state) & process.finals, state


@pytest.mark.parametrize("process", ALL, ids=IDS)
def test_only_reopen_leaves_a_final_state(process):
    for state in process.finals:
        for transition in process.transitions_from(state):
            assert transition.operation is Operation.REOPEN
            assert state in process.reopenable


@pytest.mark.parametrize("process", ALL, ids=IDS)
def test_voided_and_merged_are_for_good(process):
    assert not process.transitions_from(State.VOIDED)
    assert not process.transitions_from(State.MERGED)


@pytest.mark.parametrize("process", ALL, ids=IDS)
def test_transitions_are_unambiguous(process):
    """One operation from one state by one role leads to exactly one place."""
    seen: dict[tuple[State, Operation, Role], State | None] = {}
    for t in process.transitions:
        for state in t.sources:
            for role in t.roles:
                key = (state, t.operation, role)
                assert key not in seen, key
                seen[key] = t.target


def test_the_standard_process_has_the_six_steps_in_order():
    p = get_process("standard")
    path = [
        (Operation.FILE, Role.SHIFT_LEADER, {}),
        (Operation.DISPATCH, Role.DISPATCHER, {"department": "X"}),
        (Operation.ACCEPT, Role.HANDLER, {}),
        (Operation.FEEDBACK, Role.HANDLER, {"after_photo": b"x"}),
        (Operation.CHECK_PASS, Role.CITY_INSPECTOR, {}),
        (Operation.CLOSE, Role.SHIFT_LEADER, {}),
    ]
    state = p.initial
    for op, role, inputs in path:
        state = check_transition(p, state, op, role, inputs).target
    assert state is State.CLOSED


def test_flat_process_is_three_steps_for_people():
    p = get_process("flat")
    state = check_transition(p, State.TO_FILE, "file", "system").target
    state = check_transition(p, state, "dispatch", "system", {"department": "D"}).target
    assert state is State.HANDLING  # no acceptance step
    state = check_transition(p, state, "feedback", "handler", {"after_photo": 1}).target
    assert state is State.TO_CLOSE  # no inspector check: the shift leader reviews
    assert check_transition(p, state, "close", "shift_leader").target is State.CLOSED
    assert check_transition(p, state, "check_fail", "shift_leader", {"reason": "r"}).target is State.HANDLING


def test_sanitation_patrol_closes_on_the_inspectors_pass():
    p = get_process("sanitation_patrol")
    assert check_transition(p, State.TO_CHECK, "check_pass", "district_inspector").target is State.CLOSED


def test_wrong_state_is_refused_with_the_allowed_operations():
    with pytest.raises(TransitionError) as err:
        check_transition("standard", "to_file", "accept", "handler")
    assert err.value.code == "operation_not_allowed_in_state"
    assert "file" in err.value.details["allowed"]


def test_wrong_role_is_refused():
    with pytest.raises(TransitionError) as err:
        check_transition("standard", "to_dispatch", "dispatch", "handler", {"department": "D"})
    assert err.value.code == "role_not_allowed"
    assert err.value.details["allowed_roles"] == ["dispatcher"]


def test_system_may_not_dispatch_in_the_standard_process():
    with pytest.raises(TransitionError) as err:
        check_transition("standard", "to_dispatch", "dispatch", "system", {"department": "D"})
    assert err.value.code == "role_not_allowed"


@pytest.mark.parametrize("op,state,role,needs", [
    ("reject", "to_file", "shift_leader", ["reason"]),
    ("return", "dispatched", "handler", ["reason"]),
    ("feedback", "handling", "handler", ["after_photo"]),
    ("dispatch", "to_dispatch", "dispatcher", ["department"]),
    ("merge", "to_file", "intake_operator", ["duplicate_of"]),
    ("request_postponement", "handling", "handler", ["extension", "reason"]),
    ("void", "handling", "shift_leader", ["reason"]),
    ("check_fail", "to_check", "city_inspector", ["reason"]),
])
def test_missing_inputs_are_named(op, state, role, needs):
    with pytest.raises(TransitionError) as err:
        check_transition("standard", state, op, role, {"reason": "   "})
    assert err.value.code == "missing_input"
    assert err.value.details["missing"] == needs


def test_unknown_names():
    with pytest.raises(TransitionError) as err:
        get_process("nope")
    assert err.value.code == "unknown_process"
    with pytest.raises(TransitionError) as err:
        check_transition("standard", "to_file", "explode", "shift_leader")
    assert err.value.code == "unknown_operation"


def test_urge_keeps_the_state():
    t = check_transition("standard", "handling", "urge", "leader")
    assert t.target is State.HANDLING


def test_suspension_stops_and_resumes_the_clock():
    assert check_transition("standard", "handling", "suspend", "shift_leader",
                            {"reason": "r"}).clock.value == "pause"
    assert check_transition("standard", "suspended", "resume", "shift_leader").clock.value == "resume"


def test_choose_process():
    assert choose_process("standard", "public") is ProcessName.PUBLIC_REPORT
    assert choose_process("standard", "hotline") is ProcessName.PUBLIC_REPORT
    assert choose_process("standard", "city_inspector") is ProcessName.STANDARD
    assert choose_process("flat", "public") is ProcessName.FLAT
    assert choose_process("flat", "street_staff", self_handle=True) is ProcessName.STREET_SELF_HANDLE


@given(process=st.sampled_from(ALL), data=st.data())
def test_random_walks_follow_the_rules(process, data):
    """Any sequence of allowed operations stays inside the process's states, and a final
    state is left only by reopen."""
    state = process.initial
    for _ in range(30):
        options = process.transitions_from(state)
        if not options:
            assert state in process.finals
            break
        t = data.draw(st.sampled_from(options))
        role = data.draw(st.sampled_from(sorted(t.roles)))
        inputs = {i.value: "x" for i in t.requires}
        checked = check_transition(process, state, t.operation, role, inputs)
        if state in process.finals:
            assert checked.operation is Operation.REOPEN
        state = checked.target
        assert state in process.states


@given(process=st.sampled_from(ALL), state=st.sampled_from(list(State)),
       op=st.sampled_from(list(Operation)), role=st.sampled_from(list(Role)))
def test_check_transition_agrees_with_the_table(process, state, op, role):
    allowed = [t for t in process.transitions_from(state) if t.operation is op and role in t.roles]
    inputs = {"reason": "r", "after_photo": 1, "department": "d", "duplicate_of": 1, "extension": "1 h"}
    if allowed:
        assert check_transition(process, state, op, role, inputs).target is allowed[0].target_from(state)
    else:
        with pytest.raises(TransitionError):
            check_transition(process, state, op, role, inputs)


@given(limit=st.floats(min_value=1, max_value=1e7), share=st.floats(min_value=0, max_value=3))
def test_traffic_light_thresholds(limit, share):
    level = traffic_light(limit * share, limit)
    if share > 1.0000001:
        assert level is Level.RED
    elif 0.8000001 <= share <= 0.9999999:
        assert level is Level.YELLOW
    elif share < 0.7999999:
        assert level is Level.GREEN


def test_traffic_light_edges():
    assert traffic_light(79, 100) is Level.GREEN
    assert traffic_light(80, 100) is Level.YELLOW
    assert traffic_light(100, 100) is Level.YELLOW
    assert traffic_light(101, 100) is Level.RED
    assert traffic_light(5, None) is Level.NONE


def _chain(n: int) -> list[history.ChainLink]:
    links, prev = [], history.GENESIS
    start = datetime(2026, 5, 1, tzinfo=UTC)
    for seq in range(1, n + 1):
        payload = {"seq": seq, "op": "x", "at": history.canonical_time(start + timedelta(minutes=seq)),
                   "inputs": {"reason": "理由", "n": seq}}
        h = history.event_hash(prev, payload)
        links.append(history.ChainLink(seq, payload, prev, h))
        prev = h
    return links


@given(n=st.integers(min_value=1, max_value=12), data=st.data())
def test_any_edit_breaks_the_chain_at_that_event(n, data):
    links = _chain(n)
    assert history.first_broken_link(links, head=links[-1].hash) is None
    i = data.draw(st.integers(min_value=0, max_value=n - 1))
    edited = dict(links[i].payload)
    edited["inputs"] = {**edited["inputs"], "reason": "changed"}
    tampered = [*links[:i], history.ChainLink(links[i].seq, edited, links[i].prev_hash, links[i].hash),
                *links[i + 1:]]
    broken = history.first_broken_link(tampered)
    assert broken is not None and broken.seq == i + 1


def test_removed_and_reordered_events_are_found():
    links = _chain(4)
    assert history.first_broken_link(links[:3], head=links[3].hash).seq == 4  # tail removed
    assert history.first_broken_link([links[0], links[2], links[3]]).seq == 3  # gap
    swapped = [links[1], links[0]]
    assert history.first_broken_link(swapped).seq == 2


def test_canonical_time_needs_a_zone():
    with pytest.raises(ValueError):
        history.canonical_time(datetime(2026, 1, 1))


@pytest.mark.parametrize("process", ALL, ids=IDS)
def test_every_open_state_is_in_some_queue(process):
    """Someone must move each waiting case on (suspended cases wait for a decision to resume)."""
    for state in process.open_states() - {State.SUSPENDED}:
        roles = process.acting_roles(state)
        assert roles, state


@pytest.mark.parametrize("process", ALL, ids=IDS)
def test_every_process_reaches_the_collaboration_platform_and_leaves_it(process):
    """M-19, M-20: the centre, the coordinator or the system send a case in from dispatch or
    handling; the holding department returns it as not its own; only the coordinator
    dispatches it on, to the confirmed owner."""
    assert State.IN_COLLABORATION in process.states
    for state in (State.TO_DISPATCH, State.DISPATCHED, State.HANDLING):
        for role in ("dispatcher", "collaboration_coordinator", "system"):
            t = check_transition(process, state, "send_to_collaboration", role, {"reason": "r"})
            assert t.target is State.IN_COLLABORATION
    for state in (State.DISPATCHED, State.HANDLING):
        assert check_transition(process, state, "send_to_collaboration", "handler",
                                {"reason": "r"}).target is State.IN_COLLABORATION
    with pytest.raises(TransitionError) as err:
        check_transition(process, State.TO_DISPATCH, "send_to_collaboration", "handler", {"reason": "r"})
    assert err.value.code == "role_not_allowed"
    with pytest.raises(TransitionError) as err:
        check_transition(process, State.HANDLING, "send_to_collaboration", "dispatcher", {})
    assert err.value.code == "missing_input"
    t = check_transition(process, State.IN_COLLABORATION, "dispatch", "collaboration_coordinator",
                         {"department": "D"})
    assert t.target is State.DISPATCHED and t.starts is not None
    with pytest.raises(TransitionError):
        check_transition(process, State.IN_COLLABORATION, "dispatch", "dispatcher", {"department": "D"})
    assert process.acting_roles(State.IN_COLLABORATION) == {Role.COLLABORATION_COORDINATOR}
    assert check_transition(process, State.IN_COLLABORATION, "void", "shift_leader",
                            {"reason": "r"}).target is State.VOIDED
