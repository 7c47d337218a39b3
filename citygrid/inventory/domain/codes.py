"""Component codes (部件编码): who numbers what, and what a code must agree with.

Two schemes, told apart by length:

- 16 digits (CJ/T 214-2007 / GB/T 30428.2-2013): district (6, GB/T 2260) + major class (2)
  + minor class (2) + serial (6), e.g. 3205080101000001 is 上水井盖 no. 1 in 姑苏区;
- 17 digits (GB/T 47678.5-2026): district (6) + class code (5: major 2 + minor 3) + serial (6).

A code is valid for a component when its class part is the component's minor class code (a
fine class is numbered under its minor class), its district part is the district the
component lies in, and its serial is not all zeros.
"""

from __future__ import annotations

from dataclasses import dataclass

DISTRICT_DIGITS = 6
SERIAL_DIGITS = 6
CLASS_DIGITS = {16: 4, 17: 5}  # code length → class part length


class CodeError(ValueError):
    """A code that cannot be a component code, or that disagrees with its class or place."""


@dataclass(frozen=True, slots=True)
class ComponentCode:
    code: str
    district: str
    class_code: str
    serial: str

    @property
    def major(self) -> str:
        return self.class_code[:2]


def parse_code(code: str) -> ComponentCode:
    """Split a 16- or 17-digit code into its parts; CodeError says what is wrong."""
    if not code.isascii() or not code.isdigit():
        raise CodeError(f"code {code!r} must contain digits only")
    class_digits = CLASS_DIGITS.get(len(code))
    if class_digits is None:
        raise CodeError(f"code {code!r} has {len(code)} digits; a component code has 16 or 17")
    district = code[:DISTRICT_DIGITS]
    class_code = code[DISTRICT_DIGITS:DISTRICT_DIGITS + class_digits]
    serial = code[DISTRICT_DIGITS + class_digits:]
    if district.endswith("00"):
        raise CodeError(f"code {code!r}: {district} is not a district code (ends in 00)")
    if int(serial) == 0:
        raise CodeError(f"code {code!r}: serial number 000000 is not allowed")
    return ComponentCode(code=code, district=district, class_code=class_code, serial=serial)


def code_length_for(class_code: str) -> int:
    """The code length a minor class code calls for: 4 digits → 16, 5 → 17."""
    for length, digits in CLASS_DIGITS.items():
        if digits == len(class_code):
            return length
    raise CodeError(f"class code {class_code!r} has {len(class_code)} digits; components are "
                    "numbered under a 4-digit (2010 standard) or 5-digit (2026) minor class")


def check_code(code: str, minor_class_code: str, district_code: str | None) -> ComponentCode:
    """Parse `code` and check it against the component's minor class and (when known) the
    district it lies in. Raises CodeError naming the first disagreement."""
    parsed = parse_code(code)
    expected = code_length_for(minor_class_code)
    if len(code) != expected:
        raise CodeError(f"code {code!r} has {len(code)} digits; class {minor_class_code} "
                        f"calls for {expected}")
    if parsed.class_code != minor_class_code:
        raise CodeError(f"code {code!r} is numbered under class {parsed.class_code}, "
                        f"not {minor_class_code}")
    if district_code is not None and parsed.district != district_code:
        raise CodeError(f"code {code!r} is numbered in district {parsed.district}, but the "
                        f"component lies in district {district_code}")
    return parsed


def make_code(district_code: str, minor_class_code: str, serial: int) -> str:
    """The code of component `serial` of a class in a district."""
    if not 0 < serial < 10 ** SERIAL_DIGITS:
        raise CodeError(f"serial {serial} out of range 1..999999")
    code_length_for(minor_class_code)
    if len(district_code) != DISTRICT_DIGITS or not district_code.isdigit():
        raise CodeError(f"district code {district_code!r} must be 6 digits")
    return f"{district_code}{minor_class_code}{serial:06d}"


def code_fits(code: str, minor_class_code: str, district_code: str | None) -> bool:
    """Fast form of `check_code` for bulk imports: True exactly when check_code accepts.
    (Importers call check_code only for the codes this rejects, to get its message.)"""
    if district_code is None:
        prefix_ok = True
    else:
        prefix_ok = code.startswith(district_code) and not district_code.endswith("00")
    width = CLASS_DIGITS.get(len(code))
    return (
        prefix_ok
        and width is not None
        and width == len(minor_class_code)
        and code[DISTRICT_DIGITS:DISTRICT_DIGITS + width] == minor_class_code
        and code.isascii()
        and code.isdigit()
        and not code[:DISTRICT_DIGITS].endswith("00")
        and code[-SERIAL_DIGITS:] != "0" * SERIAL_DIGITS
    )
