"""Chime and spoken numbers: real WAVs from the stdlib and espeak-ng, measured; the queue's order."""

from __future__ import annotations

import asyncio
import wave
from pathlib import Path

import pytest

from nummerlapp.display.announce import (
    Announcer,
    RecordingPlayer,
    SpeechCache,
    spoken_number,
    spoken_text,
    wav_duration,
    wav_rms,
    write_chime,
)
from nummerlapp.display.state import Call


def call(number: str, counter: str = "3", recall: bool = False) -> Call:
    return Call(number=number, counter_id=counter, counter_name=f"Skranke {counter}", recall=recall)


def test_spoken_number_says_the_number_not_its_digits() -> None:
    assert spoken_number("A012") == "A12"
    assert spoken_number("B100") == "B100"
    assert spoken_number("C000") == "C0"
    assert spoken_number("AB007") == "AB7"
    assert spoken_number("odd") == "odd"


def test_phrase_per_language() -> None:
    assert spoken_text(call("A012"), "nb", "nb") == "Nummer A12, Skranke 3"
    assert spoken_text(call("A012"), "sv", "nb") == "Nummer A12, disk 3"
    assert spoken_text(call("A012"), "en", "nb") == "Number A12, counter 3"
    named = Call(number="D004", counter_id="resepsjon", counter_name="Resepsjonen")
    assert spoken_text(named, "en", "nb") == "Number D4, Resepsjonen"


def test_chime_is_a_short_audible_wav(tmp_path: Path) -> None:
    path = write_chime(tmp_path / "chime.wav")
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
    assert 1.0 < wav_duration(path) < 2.0
    assert 0.05 < wav_rms(path) < 0.5  # clearly audible, well below clipping


@pytest.mark.parametrize("lang", ["nb", "sv", "en"])
async def test_espeak_renders_a_non_silent_wav_once(tmp_path: Path, lang: str) -> None:
    cache = SpeechCache(tmp_path)
    text = spoken_text(call("A012"), lang, "nb")
    path = await cache.render(text, lang)
    assert path.exists() and 1.0 < wav_duration(path) < 6.0
    assert wav_rms(path) > 0.02, "espeak-ng wrote silence"
    again = await cache.render(text, lang)
    assert again == path and cache.renders == 1  # cached by text + voice


async def test_render_does_not_block_the_loop(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    loop = asyncio.get_running_loop()
    gaps: list[float] = []

    async def ticker() -> None:
        last = loop.time()
        while True:
            await asyncio.sleep(0.005)
            now = loop.time()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    started = loop.time()
    await cache.render(" ".join(f"Nummer A{i}, skranke {i % 4 + 1}." for i in range(40)), "nb")
    took = loop.time() - started
    task.cancel()
    assert took > 0.05, "the text should take espeak-ng a while"
    # the loop kept running while espeak-ng worked (median, not max: the 2 cores are shared)
    assert len(gaps) >= 3 and sorted(gaps)[len(gaps) // 2] < 0.03


async def test_queue_keeps_order_never_overlaps_and_a_recall_is_spoken_again(tmp_path: Path) -> None:
    player = RecordingPlayer(speed=0.05)  # "plays" each file for 5 % of its real length
    announcer = Announcer(SpeechCache(tmp_path), player, ["nb", "en"], "nb")
    announcer.announce(call("A012", "1"))
    announcer.announce(call("B004", "3"))  # arrives while A012 is being spoken
    announcer.announce(call("A012", "1", recall=True))
    await announcer.wait_idle(timeout=30)
    assert [c.number for c in announcer.announced] == ["A012", "B004", "A012"]
    names = [p.path.name for p in player.played]
    assert len(names) == 9  # chime + nb + en for each call
    assert names[0] == names[3] == names[6] == "chime.wav"
    assert names[1] == names[7] and names[2] == names[8]  # the recall replays the cached speech
    assert names[1] != names[4]
    for before, after in zip(player.played, player.played[1:], strict=False):
        assert after.started >= before.ended  # nothing cut off or overlapping
    assert announcer.cache.renders == 4  # A012 nb/en, B004 nb/en; the recall came from the cache


async def test_missing_espeak_still_chimes(tmp_path: Path) -> None:
    player = RecordingPlayer()
    announcer = Announcer(SpeechCache(tmp_path, espeak="no-such-espeak"), player, ["nb"], "nb")
    announcer.announce(call("A001"))
    await announcer.wait_idle(timeout=10)
    assert [p.path.name for p in player.played] == ["chime.wav"]
