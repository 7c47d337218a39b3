"""Character classes of a password (pure): letters, digits, and anything else."""

from __future__ import annotations

LETTERS, DIGITS, OTHERS = "letters", "digits", "others"


def character_classes(password: str) -> frozenset[str]:
    """The classes present: ASCII or other letters count as letters (upper and lower case are
    one class, as in GB/T 22239 practice of "letters, digits, special characters")."""
    found: set[str] = set()
    for ch in password:
        if ch.isdigit():
            found.add(DIGITS)
        elif ch.isalpha():
            found.add(LETTERS)
        else:
            found.add(OTHERS)
    return frozenset(found)
