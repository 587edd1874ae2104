"""The board's words in several languages: counter names per language, speech, rotation options."""

from __future__ import annotations

from pathlib import Path

from nummerlapp.config import load_settings
from nummerlapp.display.announce import VOICES, spoken_text
from nummerlapp.display.app import BoardOptions
from nummerlapp.display.state import Call
from nummerlapp.display.view import counter_label

ROOT = Path(__file__).resolve().parents[2]
SITE = load_settings(ROOT / "examples" / "site-fi.toml")
NAMES = {c.id: dict(c.names) for c in SITE.counters}


def call(counter: str = "2") -> Call:
    return Call(number="A012", counter_id=counter, counter_name=f"Palvelupiste {counter}")


def test_spoken_in_each_language_with_the_counters_own_name() -> None:
    said = {lang: spoken_text(call(), lang, "fi", NAMES) for lang in ("fi", "sv", "uk", "ar")}
    assert said == {
        "fi": "Numero A12, Palvelupiste 2",
        "sv": "Nummer A12, Disk 2",
        "uk": "Номер A12, Вікно 2",
        "ar": "الرقم A12، الشباك 2",
    }
    assert {"fi", "sv", "uk", "ar"} <= set(VOICES)


def test_plain_named_counter_in_another_language_uses_the_catalogue_word() -> None:
    assert spoken_text(call(), "fi", "nb") == "Numero A12, palvelupiste 2"
    assert counter_label(call(), "en", None, "nb") == "Counter 2"
    assert counter_label(call(), "nb", None, "nb") == "Palvelupiste 2"  # the name the service sent
    assert counter_label(call(), "uk", NAMES, "fi") == "Вікно 2"


def test_board_options_take_the_languages_in_turn() -> None:
    options = BoardOptions.from_settings(SITE)
    assert options.languages == ("fi", "sv") and options.language_period_s == 12
    assert options.lang == "fi" and options.messages["sv"].startswith("Välkommen")
    assert options.counter_names["3"]["ar"] == "الشباك 3"
    pinned = BoardOptions.from_settings(SITE, lang="uk")  # --lang pins one language
    assert pinned.languages == () and pinned.lang == "uk"
