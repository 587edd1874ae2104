"""python-escpos' printer database is parsed once and cached, and no start leaves a folder in /tmp
(printer/escpos_cache.py). Each case is a fresh interpreter, as a kiosk start is."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = (
    "import os, nummerlapp.printer.profile as p, escpos.capabilities as c; "
    "from nummerlapp.config.loader import EMBEDDED; from nummerlapp.config import load_settings; "
    "s = load_settings(EMBEDDED); prof = p.printer_profile(s.printers[0]); "
    "print(c.pickle_path, prof.get_columns('a'), c.full_load)"
)


def start(cache: Path, tmp: Path, **env: str) -> tuple[str, int, bool]:
    environ = (
        {k: v for k, v in os.environ.items() if not k.startswith("ESCPOS_CAPABILITIES")}
        | {"XDG_CACHE_HOME": str(cache), "TMPDIR": str(tmp)}
        | env
    )
    out = subprocess.run(
        [sys.executable, "-c", PROBE], env=environ, capture_output=True, text=True, timeout=60, check=True
    ).stdout.split()
    return out[0], int(out[1]), out[2] == "True"


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    cache, tmp = tmp_path / "cache", tmp_path / "tmp"
    tmp.mkdir()
    return cache, tmp


def test_the_database_is_read_from_one_cache_and_nothing_is_left_in_tmp(dirs: tuple[Path, Path]) -> None:
    cache, tmp = dirs
    pickle_path, columns, parsed = start(cache, tmp)
    folder = cache / "nummerlapp" / "escpos"
    assert Path(pickle_path).parent == folder and Path(pickle_path).is_file()
    assert columns > 0 and not parsed  # python-escpos found our pickle: no YAML parse
    assert list(tmp.iterdir()) == []  # python-escpos' mkdtemp() went to the cache's scratch folder
    assert list((folder / "tmp").iterdir()) == []  # and was removed there
    made = Path(pickle_path).stat().st_mtime_ns
    assert start(cache, tmp)[0] == pickle_path
    assert Path(pickle_path).stat().st_mtime_ns == made  # the second start reads it, writes nothing


def test_a_pickle_older_than_the_library_is_made_again(dirs: tuple[Path, Path]) -> None:
    cache, tmp = dirs
    pickle_path = Path(start(cache, tmp)[0])
    pickle_path.write_bytes(b"not a pickle")
    os.utime(pickle_path, (0, 0))  # older than capabilities.json: as after an upgrade of python-escpos
    assert start(cache, tmp)[1] > 0
    assert pickle_path.read_bytes().startswith(b"\x80")  # a pickle again


def test_an_unwritable_cache_leaves_it_to_python_escpos(dirs: tuple[Path, Path]) -> None:
    cache, tmp = dirs
    cache.write_text("a file where the cache folder would be")
    pickle_path, columns, parsed = start(cache, tmp)
    assert columns > 0 and parsed  # python-escpos parsed it itself, as without the cache
    assert Path(pickle_path).parent.parent == tmp


def test_a_technicians_own_setting_is_kept(dirs: tuple[Path, Path], tmp_path: Path) -> None:
    cache, tmp = dirs
    own = tmp_path / "own"
    own.mkdir()
    pickle_path, columns, _ = start(cache, tmp, ESCPOS_CAPABILITIES_PICKLE_DIR=str(own))
    assert Path(pickle_path).parent == own and columns > 0
    assert not list((cache / "nummerlapp" / "escpos").glob("*.pickle"))
    assert list(tmp.iterdir()) == []


def test_kiosks_starting_together_all_read_a_whole_file(dirs: tuple[Path, Path]) -> None:
    cache, tmp = dirs
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESCPOS_CAPABILITIES")}
    env |= {"XDG_CACHE_HOME": str(cache), "TMPDIR": str(tmp)}
    procs = [
        subprocess.Popen([sys.executable, "-c", PROBE], env=env, stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    outs = [p.communicate(timeout=120)[0].split() for p in procs]
    assert [p.returncode for p in procs] == [0] * 6
    assert len({o[0] for o in outs}) == 1 and all(int(o[1]) > 0 for o in outs)
    assert list(tmp.iterdir()) == []
