"""Every string the web pages show is translated into nb, sv and fi (and present in en).

The message ids are found in the sources the same way a translator's tool would: every
``_("...")`` call in server/web/*.py and the templates.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from nummerlapp.common.i18n import clear_cache, translator

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "server" / "web"
CALL = re.compile(r"""_\(\s*("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')\s*\)""")
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def used_msgids() -> set[str]:
    found: set[str] = set()
    for path in [*WEB.glob("*.py"), *(WEB / "templates").glob("*.html")]:
        for match in CALL.finditer(path.read_text(encoding="utf-8")):
            found.add(match.group(1)[1:-1].replace("\\'", "'").replace('\\"', '"'))
    return found


def catalogue(lang: str) -> dict[str, str]:
    with (ROOT / "common" / "locale" / lang / "web.po").open("rb") as fh:
        cat = read_po(fh)
    return {m.id: str(m.string) for m in cat if m.id and not m.fuzzy and isinstance(m.id, str) and m.string}


def test_sources_use_many_strings() -> None:
    assert len(used_msgids()) > 100  # the extractor finds the calls at all


@pytest.mark.parametrize("lang", ["nb", "sv", "fi", "en"])
def test_every_string_is_translated(lang: str) -> None:
    cat = catalogue(lang)
    missing = sorted(m for m in used_msgids() if not cat.get(m))
    assert missing == [], f"{lang}/web.po lacks: {missing}"


@pytest.mark.parametrize("lang", ["nb", "sv", "fi"])
def test_translations_keep_placeholders(lang: str) -> None:
    for msgid, msgstr in catalogue(lang).items():
        assert sorted(PLACEHOLDER.findall(msgid)) == sorted(PLACEHOLDER.findall(msgstr)), msgid


def test_translator_reads_the_catalogue() -> None:
    clear_cache()
    assert translator("web", "nb")("Next") == "Neste"
    assert translator("web", "sv")("Next") == "Nästa"
    assert translator("web", "en")("Next") == "Next"
