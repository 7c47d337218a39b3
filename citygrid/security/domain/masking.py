"""Masking of personal data in exports and lists for people who need not see it in full.

Pure functions: `mask_phone("13812345678") == "138****5678"`, `mask_name("张三丰") == "张**"`.
A masked value keeps its length (for names: one star per hidden character) so that a reader can
still tell values apart by shape without learning them.
"""

from __future__ import annotations

MASK = "*"


def mask_phone(phone: str) -> str:
    """Keep the first three and the last four digits of a mobile number (the common Chinese
    form 138****5678); shorter numbers keep at most a third of their digits at each end.
    Characters other than digits (spaces, +, -) stay where they are."""
    digits = [i for i, ch in enumerate(phone) if ch.isdigit()]
    count = len(digits)
    if count == 0:
        return phone
    if count >= 11:
        head, tail = 3, 4
    else:
        head = tail = count // 3
    hidden = set(digits[head:count - tail])
    return "".join(MASK if i in hidden else ch for i, ch in enumerate(phone))


def mask_name(name: str) -> str:
    """Keep the first character of a name (the family name in Chinese order) and hide the rest;
    a one-character name is hidden entirely. Leading and trailing spaces are dropped."""
    name = name.strip()
    if len(name) <= 1:
        return MASK * len(name)
    return name[0] + MASK * (len(name) - 1)


def mask_email(email: str) -> str:
    """Keep the first character of the local part and the domain: z***@example.cn."""
    local, at, domain = email.strip().partition("@")
    if not at:
        return mask_name(local)
    return (local[:1] + MASK * max(len(local) - 1, 0)) + "@" + domain
