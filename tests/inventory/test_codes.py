"""Component code validation (pure)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from citygrid.inventory.domain.codes import CodeError, check_code, make_code, parse_code

districts = st.from_regex(r"\A[1-6][0-9]{3}[0-9][1-9]\Z")
minor4 = st.from_regex(r"\A[0-9]{4}\Z")
minor5 = st.from_regex(r"\A[0-9]{5}\Z")
serials = st.integers(min_value=1, max_value=999_999)


@given(districts, st.one_of(minor4, minor5), serials)
def test_made_codes_parse_back(district: str, minor: str, serial: int) -> None:
    code = make_code(district, minor, serial)
    assert len(code) == (16 if len(minor) == 4 else 17)
    parsed = check_code(code, minor, district)
    from citygrid.inventory.domain.codes import code_fits

    assert code_fits(code, minor, district) and code_fits(code, minor, None)
    assert (parsed.district, parsed.class_code, int(parsed.serial)) == (district, minor, serial)


@given(districts, minor5, serials, minor5)
def test_other_class_rejected(district: str, minor: str, serial: int, other: str) -> None:
    code = make_code(district, minor, serial)
    if other != minor:
        with pytest.raises(CodeError, match="numbered under class"):
            check_code(code, other, district)


@given(districts, minor4, serials, districts)
def test_other_district_rejected(district: str, minor: str, serial: int, other: str) -> None:
    code = make_code(district, minor, serial)
    if other != district:
        with pytest.raises(CodeError, match="lies in district"):
            check_code(code, minor, other)


@given(st.text(min_size=0, max_size=20))
def test_arbitrary_text_parses_or_raises_code_error(text: str) -> None:
    try:
        parsed = parse_code(text)
    except CodeError:
        return
    assert text.isdigit() and len(text) in (16, 17) and parsed.code == text


@pytest.mark.parametrize(("code", "message"), [
    ("3205080101000001x", "digits only"),
    ("320508010100001", "15 digits"),
    ("3205000101000001", "not a district"),
    ("3205080101000000", "serial"),
])
def test_bad_codes(code: str, message: str) -> None:
    with pytest.raises(CodeError, match=message):
        parse_code(code)


def test_length_must_match_class_scheme() -> None:
    with pytest.raises(CodeError, match="calls for 17"):
        check_code("3205080101000001", "01010", "320508")
    assert check_code("3205080101000001", "0101", "320508").serial == "000001"


codes_like = st.one_of(
    st.text(alphabet="0123456789", min_size=15, max_size=18),
    st.builds(lambda d, m, s: d + m + s, st.from_regex(r"\A[0-9]{6}\Z"),
              st.one_of(minor4, minor5), st.from_regex(r"\A[0-9]{6}\Z")),
    st.text(max_size=18),
)


@given(codes_like, st.one_of(minor4, minor5, st.sampled_from(["01002", "0101", "010"])),
       st.one_of(st.none(), districts, st.from_regex(r"\A[0-9]{4}00\Z")))
def test_fast_check_agrees_with_check_code(code: str, minor: str, district: str | None) -> None:
    from citygrid.inventory.domain.codes import code_fits

    try:
        check_code(code, minor, district)
        accepted = True
    except CodeError:
        accepted = False
    assert code_fits(code, minor, district) == accepted
