"""Site-file test helpers: the example site's text and variants of it (imported by the tests)."""

from __future__ import annotations

from nummerlapp.config.loader import EMBEDDED

EXAMPLE_TEXT = EMBEDDED.read_text(encoding="utf-8")


def variant(*edits: tuple[str, str]) -> str:
    """The example site's text with each ``(old, new)`` replaced once; ``old`` must be present."""
    text = EXAMPLE_TEXT
    for old, new in edits:
        assert old in text, f"the example site no longer contains {old!r}"
        text = text.replace(old, new, 1)
    return text
