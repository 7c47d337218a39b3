from tests.cases.conftest import (  # noqa: F401
    _demo_committed,
    _demo_plan,
    demo_small,
    demo_small_tx,
    people,
    photo,
    place,
)
