"""The site file's questions: checked like everything else (file, key, value; exit 2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from nummerlapp.common.errors import ConfigError
from nummerlapp.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
BASE = """
[site]
id = "x"
name = "X"
timezone = "Europe/Oslo"
languages = ["nb", "en"]
[site.hours]
mon = ["08:00-15:00"]
[[departments]]
id = "nav"
prefix = "A"
name = { nb = "NAV", en = "NAV" }
[[counters]]
id = "1"
departments = ["nav"]
"""


def question(qid: str, scale: str = "faces", text: str = '{ nb = "Hvordan?", en = "How?" }') -> str:
    return f'[[feedback.questions]]\nid = "{qid}"\nscale = "{scale}"\ntext = {text}\n'


def load(tmp_path: Path, extra: str) -> object:
    path = tmp_path / "site.toml"
    path.write_text(BASE + extra, encoding="utf-8")
    return load_settings(path)


def test_the_example_sites_have_questions() -> None:
    embedded = load_settings(None).feedback
    assert [q.id for q in embedded.questions] == ["overall", "wait", "staff", "solved"]
    assert [q.scale for q in embedded.questions] == ["faces", "faces", "faces", "yes_no"]
    assert all(set(q.text) == {"nb", "sv", "en"} for q in embedded.questions)
    documented = load_settings(ROOT / "examples" / "site.toml").feedback
    assert [q.id for q in documented.questions] == ["overall", "wait", "solved"]
    assert documented.question("solved") is not None and documented.question("solved").values == (0, 1)  # type: ignore[union-attr]


def test_no_feedback_section_means_no_questions(tmp_path: Path) -> None:
    settings = load(tmp_path, "")
    assert settings.feedback.questions == () and settings.feedback.idle_timeout_s == 20  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("extra", "key", "problem"),
    [
        ("".join(question(f"q{i}") for i in range(6)), "feedback.questions", "at most 5"),
        (question("a") + question("a"), "feedback.questions[1].id", "already used"),
        (
            question("a", scale="stars"),
            "feedback.questions[0].scale",
            '"stars" is not one of "faces", "yes_no"',
        ),
        (question("a", text='{ nb = "Hvordan?" }'), "feedback.questions[0].text", 'language "en"'),
        (question("a", text='{ nb = "Hvordan?", en = "" }'), "feedback.questions[0].text.en", "non-empty"),
        (question("a b"), "feedback.questions[0].id", "is not an id"),
        ('[[feedback.questions]]\nid = "a"\n', "feedback.questions[0].text", "required"),
        ("[feedback]\nidle_timeout_s = 2\n", "feedback.idle_timeout_s", "at least 5"),
        ("[feedback]\nthanks = 2\n", "feedback.thanks", 'did you mean "thanks_s"'),
        (question("a").replace("scale", "scael"), "feedback.questions[0].scael", "unknown key"),
    ],
    ids=[
        "six",
        "twice",
        "scale",
        "missing language",
        "empty text",
        "bad id",
        "no text",
        "idle",
        "typo",
        "key typo",
    ],
)
def test_mistakes_name_file_key_and_value(tmp_path: Path, extra: str, key: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, extra)
    assert caught.value.file == str(tmp_path / "site.toml")
    assert caught.value.key == key
    assert problem in caught.value.problem


def test_config_check_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(BASE + question("a", scale="stars"), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "config", "check", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == f'error: {path}: feedback.questions[0].scale: "stars" is not one of "faces", "yes_no"'
    )
    assert "Traceback" not in done.stderr


def test_the_terminal_refuses_a_site_without_questions(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(BASE, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "feedback", "--config", str(path), "--no-mdns"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 2 and "feedback.questions: no questions" in done.stderr
