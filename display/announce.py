"""Chime and spoken number for each call, rendered offline, cached, and played strictly in turn.

Why it is built this way:

* **Offline and cached.** ``espeak-ng`` writes each phrase to a WAV once; the file is named by a
  hash of voice, speed and text, so "Nummer A12, skranke 3" is rendered once a day at most and a
  recall plays from the cache. espeak-ng runs as an asyncio subprocess: the board's loop (and with
  it Kivy) never waits on it.
* **Never cut off.** Calls go into a FIFO; one worker plays chime then every voice language for
  one call before the next call starts, so a desk pressing *next* while the previous number is
  being spoken cannot swallow it. Rendering for a queued call starts when it is queued, so the
  second call is ready the moment the first ends.
* **Said like a person says it.** ``A012`` is spoken as "A12" (letter, then the number as a
  number: "A twelve", not "A zero one two"); espeak-ng reads "A12" as the letter, where "A 12"
  in English would be the article "a". The phrase comes from the display catalogue, so a site
  can change the wording without code.
* **A pluggable player.** Production plays through Kivy's SoundLoader (:class:`KivyPlayer`);
  tests use :class:`RecordingPlayer`, which notes what would be played and when. Everything up
  to the speaker (chime synthesis, speech) is real in both.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import os
import re
import shutil
import struct
import time
import wave
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from nummerlapp.common.errors import NummerlappError
from nummerlapp.common.i18n import translator
from nummerlapp.display.state import Call

log = logging.getLogger(__name__)

SAMPLE_RATE = 22050  # espeak-ng's own rate; the chime matches it so one audio setup serves both
VOICES = {
    "nb": "nb",
    "sv": "sv",
    "en": "en-gb",
    "fi": "fi",
    "da": "da",
    "de": "de",
    "uk": "uk",
    "ar": "ar",
    "pl": "pl",
}


class AnnounceError(NummerlappError):
    """Speech could not be rendered (espeak-ng missing or failing)."""


# ---------------------------------------------------------------------------------------------
# Words


def spoken_number(number: str) -> str:
    """``"A012"`` → ``"A12"``: the prefix, then the number without its padding zeros."""
    match = re.fullmatch(r"([^\d]*)(\d+)", number.strip())
    if match is None:
        return number
    prefix, digits = match.groups()
    return f"{prefix.strip()}{int(digits)}"


def spoken_text(
    call: Call, lang: str, site_language: str, names: Mapping[str, Mapping[str, str]] | None = None
) -> str:
    """The sentence spoken for ``call`` in ``lang``: "Nummer A12, skranke 3", "Numero A12,
    palvelupiste 3".

    A counter the site file names in ``lang`` (``name = {fi = "…", sv = "…"}``, passed as
    ``names``) is said by that name. Otherwise the configured name is in the site's own
    language, so it is spoken as is in that language; in another language a counter with a
    numeric id is named with the catalogue's word ("counter 3", "disk 3"), otherwise by its name.
    """
    _ = translator("display", lang)
    own = (names or {}).get(call.counter_id, {}).get(lang)
    if own:
        counter = own
    elif lang == site_language or not call.counter_id.isdigit():
        counter = call.counter_name
    else:
        counter = _("counter {id}").format(id=call.counter_id)
    return _("Number {number}, {counter}").format(number=spoken_number(call.number), counter=counter)


# ---------------------------------------------------------------------------------------------
# Sound files


def write_chime(path: Path, rate: int = SAMPLE_RATE) -> Path:
    """A soft two-tone "ding-dong" (E5 then C5, a falling major third) as 16-bit mono WAV.

    Each tone is a sine with a quieter octave partial, a 10 ms attack (no click) and an
    exponential decay, like a struck bell; peak level is about -6 dBFS so the speech that follows
    is not drowned.
    """

    def tone(freq: float, seconds: float, decay: float) -> list[float]:
        n = int(rate * seconds)
        attack = int(rate * 0.01)
        out = []
        for i in range(n):
            t = i / rate
            env = math.exp(-t * decay) * min(1.0, i / attack if attack else 1.0)
            tail = min(1.0, (n - i) / attack) if attack else 1.0  # fade the last 10 ms to zero
            s = math.sin(2 * math.pi * freq * t) + 0.3 * math.sin(4 * math.pi * freq * t)
            out.append(0.5 / 1.3 * s * env * tail)
        return out

    samples = tone(659.25, 0.55, 4.0) + tone(523.25, 1.0, 3.0)
    frames = b"".join(struct.pack("<h", int(max(-1.0, min(1.0, s)) * 32767)) for s in samples)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with wave.open(str(tmp), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(frames)
    os.replace(tmp, path)
    return path


def wav_duration(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        return wav.getnframes() / float(wav.getframerate())


def wav_rms(path: Path) -> float:
    """Root-mean-square level of a 16-bit WAV, 0.0 (silence) to 1.0 (full scale)."""
    with wave.open(str(path), "rb") as wav:
        if wav.getsampwidth() != 2:
            raise ValueError(f"{path}: only 16-bit WAV is measured")
        data = wav.readframes(wav.getnframes())
    count = len(data) // 2
    if count == 0:
        return 0.0
    total = sum(s * s for (s,) in struct.iter_unpack("<h", data[: count * 2]))
    return math.sqrt(total / count) / 32768.0


class SpeechCache:
    """WAV files of rendered phrases under ``directory``, keyed by voice, speed and text."""

    def __init__(self, directory: Path, *, speed: int = 140, espeak: str = "espeak-ng") -> None:
        self.directory = Path(directory)
        self.speed = speed  # words per minute: a little slower than espeak's 175, for a hall
        self.espeak = espeak
        self.renders = 0  # espeak-ng runs so far (tests check the cache works)
        self._locks: dict[Path, asyncio.Lock] = {}

    def path_for(self, text: str, voice: str) -> Path:
        key = hashlib.sha256(f"{voice}\0{self.speed}\0{text}".encode()).hexdigest()[:24]
        return self.directory / f"speech-{key}.wav"

    def chime(self) -> Path:
        path = self.directory / "chime.wav"
        if not path.exists():
            write_chime(path)
        return path

    async def render(self, text: str, lang: str) -> Path:
        """The WAV for ``text`` in ``lang``'s voice, rendering it with espeak-ng if not cached."""
        voice = VOICES.get(lang, lang)
        path = self.path_for(text, voice)
        lock = self._locks.setdefault(path, asyncio.Lock())
        async with lock:
            if path.exists():
                return path
            if shutil.which(self.espeak) is None:
                raise AnnounceError(f"{self.espeak} is not installed: calls cannot be spoken")
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            proc = await asyncio.create_subprocess_exec(
                self.espeak, "-v", voice, "-s", str(self.speed), "-w", str(tmp), "--", text,
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
            )  # fmt: skip
            _, err = await proc.communicate()
            if proc.returncode != 0 or not tmp.exists():
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
                raise AnnounceError(f"espeak-ng -v {voice} failed: {err.decode(errors='replace').strip()}")
            os.replace(tmp, path)
            self.renders += 1
            return path


# ---------------------------------------------------------------------------------------------
# Players


class Player(Protocol):
    async def play(self, path: Path) -> None:
        """Play ``path`` and return when it has finished."""


@dataclass
class Played:
    path: Path
    started: float  # time.monotonic()
    ended: float


@dataclass
class RecordingPlayer:
    """Notes what would be played and when; "plays" for the file's length times ``speed``."""

    speed: float = 0.0
    played: list[Played] = field(default_factory=list)

    async def play(self, path: Path) -> None:
        started = time.monotonic()
        if self.speed > 0:
            await asyncio.sleep(wav_duration(path) * self.speed)
        self.played.append(Played(path, started, time.monotonic()))


class KivyPlayer:
    """Plays through Kivy's SoundLoader (SDL2 audio on a board). Imported lazily: needs Kivy."""

    def __init__(self, volume: float = 1.0) -> None:
        self.volume = volume

    async def play(self, path: Path) -> None:
        from kivy.core.audio import SoundLoader  # noqa: PLC0415  # Kivy's audio providers load on first use (a board without sound never does)

        sound = SoundLoader.load(str(path))
        if sound is None:
            log.warning("no audio output for %s", path.name)
            return
        done = asyncio.get_running_loop().create_future()

        def stopped(*_args: object) -> None:
            if not done.done():
                done.set_result(None)

        sound.bind(on_stop=stopped)
        sound.volume = self.volume
        sound.play()
        # on_stop is the signal; the length (plus slack) is a guard against a backend that never sends it
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(done, (sound.length or wav_duration(path)) + 1.0)
        sound.unload()


# ---------------------------------------------------------------------------------------------
# The queue


class Announcer:
    """Queues calls and plays chime + speech for each, one call at a time, in arrival order."""

    def __init__(
        self,
        cache: SpeechCache,
        player: Player,
        languages: Sequence[str],
        site_language: str,
        *,
        chime: bool = True,
        counter_names: Mapping[str, Mapping[str, str]] | None = None,
    ) -> None:
        self.cache = cache
        self.counter_names = counter_names or {}  # counter id -> {lang: name} from the site file
        self.player = player
        self.languages = tuple(languages) or (site_language,)
        self.site_language = site_language
        self.use_chime = chime
        self._queue: asyncio.Queue[tuple[Call, asyncio.Task[list[Path]]]] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None
        self.announced: list[Call] = []  # calls fully played, in order
        self._idle = asyncio.Event()
        self._idle.set()

    def texts(self, call: Call) -> list[tuple[str, str]]:
        """(language, sentence) pairs spoken for ``call``."""
        return [
            (lang, spoken_text(call, lang, self.site_language, self.counter_names)) for lang in self.languages
        ]

    async def _render(self, call: Call) -> list[Path]:
        files = [self.cache.chime()] if self.use_chime else []
        for lang, text in self.texts(call):
            try:
                files.append(await self.cache.render(text, lang))
            except AnnounceError as exc:
                log.warning("%s", exc)  # the chime still plays: people look at the board
        return files

    def announce(self, call: Call) -> None:
        """Queue ``call``; returns at once. Rendering starts now, playing when the queue reaches it."""
        self._idle.clear()
        render = asyncio.get_running_loop().create_task(self._render(call))
        self._queue.put_nowait((call, render))
        if self._worker is None or self._worker.done():
            self._worker = asyncio.get_running_loop().create_task(self._work())

    async def _work(self) -> None:
        while not self._queue.empty():
            call, render = self._queue.get_nowait()
            try:
                for path in await render:
                    await self.player.play(path)
            except asyncio.CancelledError:
                raise
            except Exception:  # one bad call must not silence the board for the rest of the day
                log.exception("announcing %s failed", call.number)
            self.announced.append(call)
        self._idle.set()

    async def wait_idle(self, timeout: float | None = None) -> None:
        """Return when every queued call has been played."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        while not self._queue.empty():
            _, render = self._queue.get_nowait()
            render.cancel()
