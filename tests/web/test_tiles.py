from hypothesis import given
from hypothesis import strategies as st

from citygrid.web.tiles import tile_layers, tile_problems


def test_unknown_preset_is_a_problem_and_draws_nothing() -> None:
    assert tile_problems("osm", "", "")
    assert tile_layers("osm") == []


def test_custom_url_needs_placeholders_and_a_scheme() -> None:
    assert tile_problems("custom", "", "https://t.example.org/tiles.png")
    assert tile_problems("custom", "", "javascript:alert(1)/{z}/{x}/{y}")
    assert tile_problems("custom", "", "/tiles/{z}/{x}/{y}.png") == []


@given(st.text(min_size=1).filter(lambda s: s.strip()))
def test_tianditu_key_is_url_encoded(key: str) -> None:
    layers = tile_layers("tianditu", tianditu_key=key)
    assert len(layers) == 2
    for layer in layers:
        query = layer["url"].split("&tk=", 1)[1]
        assert all(ch not in query for ch in "&#? <>\"'")
