import unicodedata

import pytest

from users.validators import REFUSED, validate_printable

REFUSED_CATEGORIES = {"Cc", "Cf", "Zl", "Zp"}


def test_the_refused_ranges_are_unicodes_control_and_format_categories():
    refused = set()
    text = REFUSED.encode().decode("unicode_escape")
    i = 0
    while i < len(text):
        if i + 2 < len(text) and text[i + 1] == "-":
            refused.update(range(ord(text[i]), ord(text[i + 2]) + 1))
            i += 3
        else:
            refused.add(ord(text[i]))
            i += 1
    expected = {cp for cp in range(0x10000) if unicodedata.category(chr(cp)) in REFUSED_CATEGORIES}
    assert refused == expected


@pytest.mark.parametrize(
    "text",
    [
        "Ada Lovelace",
        "Zoë",
        "李小龙",
        "👾",
        "O'Brien-Smith, Jr.",
        "🏴\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",
    ],
)
def test_printable_text_passes(text):
    validate_printable(text)
