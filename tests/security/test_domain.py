from hypothesis import given
from hypothesis import strategies as st

from citygrid.security.domain.csp import build_policy, origin_of, tile_origins
from citygrid.security.domain.masking import mask_email, mask_name, mask_phone
from citygrid.security.domain.passwords import DIGITS, LETTERS, OTHERS, character_classes


def test_masking_examples():
    assert mask_phone("13812345678") == "138****5678"
    assert mask_phone("+86 138-1234-5678") == "+86 1**-****-5678"  # 13 digits: 3 + 4 kept
    assert mask_phone("028-8765432") == "028-****432"  # 10 digits: a third (3) at each end
    assert mask_phone("") == ""
    assert mask_name("张三丰") == "张**"
    assert mask_name("李四") == "李*"
    assert mask_name("王") == "*"
    assert mask_name(" 欧阳娜娜 ") == "欧***"
    assert mask_email("zhangsan@example.cn") == "z*******@example.cn"


@given(st.text(alphabet="0123456789 -+", max_size=30))
def test_a_masked_phone_keeps_its_shape_and_hides_the_middle(phone):
    masked = mask_phone(phone)
    assert len(masked) == len(phone)
    digits = sum(ch.isdigit() for ch in phone)
    shown = sum(ch.isdigit() for ch in masked)
    assert shown <= 7
    if digits >= 3:
        assert shown < digits  # something is always hidden
    assert [c for c in masked if not c.isdigit() and c != "*"] == [
        c for c in phone if not c.isdigit()]


@given(st.text(min_size=2, max_size=20).map(str.strip).filter(lambda s: len(s) >= 2))
def test_a_masked_name_shows_only_its_first_character(name):
    masked = mask_name(name)
    assert masked[0] == name[0]
    assert set(masked[1:]) == {"*"}
    assert len(masked) == len(name)


@given(st.text(max_size=40))
def test_character_classes_are_a_subset_of_three(password):
    classes = character_classes(password)
    assert classes <= {LETTERS, DIGITS, OTHERS}
    assert bool(classes) == bool(password)


def test_character_classes_examples():
    assert character_classes("abcDEF") == {LETTERS}
    assert character_classes("城管2026!") == {LETTERS, DIGITS, OTHERS}


def test_tile_origins():
    assert tile_origins("", "") == []
    assert tile_origins("tianditu", "") == ["https://*.tianditu.gov.cn"]
    assert tile_origins("custom", "https://{s}.tile.example.cn:8443/{z}/{x}/{y}.png") == [
        "https://*.tile.example.cn:8443"]
    assert tile_origins("custom", "/tiles/{z}/{x}/{y}.png") == []  # our own host: 'self'
    assert origin_of("javascript:alert(1)") is None
    assert origin_of("https://evil.example'; script-src *") is None


def test_policy_keeps_scripts_to_self_and_nothing_frames_us():
    policy = dict(d.split(" ", 1) for d in build_policy(nonce="abc", img_sources=["https://t.cn"]).split("; "))
    assert policy["script-src"] == "'self' 'nonce-abc'"
    assert policy["style-src"] == "'self' 'nonce-abc'"
    assert "'unsafe-inline'" not in " ".join(policy.values())
    assert policy["frame-ancestors"] == "'none'"
    assert policy["img-src"] == "'self' data: blob: https://t.cn"
    assert policy["object-src"] == "'none'"
