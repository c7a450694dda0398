"""What a name or an address may contain."""

import unicodedata

from django.core.exceptions import ValidationError

# C0/C1 controls (newlines and tabs included), format characters (bidi overrides, zero-width
# spaces and joiners), surrogates, and the Unicode line and paragraph separators. Any of them
# lets a name forge a line in a log, reorder the text around it, or hide itself on screen.
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def validate_printable(value: str) -> None:
    if any(unicodedata.category(char) in _REFUSED_CATEGORIES for char in value):
        raise ValidationError(
            "Use letters, digits, spaces and punctuation only: control characters, line "
            "breaks and invisible formatting characters are not allowed.",
            code="unprintable",
        )
