"""Password validator: at least N character classes (letters, digits, others)."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from citygrid.security.domain.passwords import character_classes


class CharacterClassValidator:
    """Letters, digits and at least one other character (with the default of 3 classes)."""

    def __init__(self, min_classes: int = 3) -> None:
        self.min_classes = max(1, min(min_classes, 3))

    def validate(self, password: str, user: Any = None) -> None:
        if len(character_classes(password)) < self.min_classes:
            raise ValidationError(self._message(), code="password_too_simple",
                                  params={"min_classes": self.min_classes})

    def _message(self) -> str:
        if self.min_classes >= 3:
            return _("The password must contain letters, digits and at least one other "
                     "character (such as !, # or a space).")
        return ngettext("The password must contain at least %(min_classes)d kind of character "
                        "(letters, digits, others).",
                        "The password must contain at least %(min_classes)d kinds of characters "
                        "(letters, digits, others).", self.min_classes) % {"min_classes": self.min_classes}

    def get_help_text(self) -> str:
        return self._message()
