"""What a name or an address may contain."""

import re

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

# The characters refused: C0/C1 controls (newlines and tabs included), format characters
# (bidi overrides, zero-width spaces and joiners, the BOM), and the Unicode line and
# paragraph separators: the categories Cc, Cf, Zl and Zp of Unicode 14 (Python 3.11's;
# tests/users/test_validators.py checks them against unicodedata), in the Basic Multilingual
# Plane. Any of them lets a name forge a line in a log, reorder the text around it, or hide
# itself on screen. Surrogates (Cs) cannot reach a decoded JSON string: the parser refuses
# them. The few format characters past the BMP (the tag characters of subdivision flag emoji
# among them) are allowed: the pattern stays ECMA-262, as the OpenAPI schema needs.
REFUSED = (
    "\\u0000-\\u001f\\u007f-\\u009f\\u00ad\\u0600-\\u0605\\u061c\\u06dd\\u070f\\u0890-\\u0891"
    "\\u08e2\\u180e\\u200b-\\u200f\\u2028-\\u202e\\u2060-\\u2064\\u2066-\\u206f"
    "\\ufeff\\ufff9-\\ufffb"
)
MESSAGE = (
    "Use letters, digits, spaces and punctuation only: control characters, line breaks and "
    "invisible formatting characters are not allowed."
)

# Validators whose pattern is also the OpenAPI schema's (drf-spectacular copies it): what
# the schema calls valid, the API accepts. A name also needs one character that is not a space.
validate_printable = RegexValidator(re.compile(f"^[^{REFUSED}]*$"), MESSAGE, code="unprintable")
validate_name = RegexValidator(re.compile(f"^(?=.*\\S)[^{REFUSED}]*$"), MESSAGE, code="unprintable")

_ANY_REFUSED = re.compile(f"[{REFUSED}]")


def refuse_unprintable(value: str) -> None:
    """The check of ``validate_printable`` on text as it came, before any trimming, and
    without ``$``'s leniency: in Python it also matches before a final newline."""
    if _ANY_REFUSED.search(value):
        raise ValidationError(MESSAGE, code="unprintable")
