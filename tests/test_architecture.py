"""The shape DESIGN.md asks for, checked: pure domain modules stay free of Django."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "citygrid"
DOMAIN_MODULES = sorted(ROOT.glob("*/domain/*.py"))


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_there_are_domain_modules() -> None:
    assert DOMAIN_MODULES, "expected pure domain modules under citygrid/*/domain/"


@pytest.mark.parametrize("path", DOMAIN_MODULES, ids=lambda p: str(p.relative_to(ROOT)))
def test_domain_module_imports_no_django(path: Path) -> None:
    forbidden = {
        name
        for name in imported_modules(path)
        if name.split(".")[0] in {"django", "ninja"}
        or (name.startswith("citygrid.") and ".domain" not in name)
    }
    assert not forbidden, f"{path} imports {sorted(forbidden)}; domain modules must stay pure"
