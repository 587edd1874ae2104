"""Where python-escpos keeps its parsed printer database, so a start does not parse it again.

python-escpos reads its ``capabilities.json`` (≈ 100 printer models) with PyYAML on import and
caches the result as a pickle in ``ESCPOS_CAPABILITIES_PICKLE_DIR``; unset, that is a *new* temporary
folder per process. So every kiosk start parsed the whole file again (≈ 90 ms here, twice that on
a Raspberry Pi) and left one more folder with a 1 MB pickle in /tmp, which grows with every
restart (the temporary folder is made even when the variable is set: it is the default argument of
an ``environ.get``). :func:`prepare` points it at one folder in the user's cache
(``$XDG_CACHE_HOME/nummerlapp/escpos``) and writes the pickle there itself, atomically, from the
same JSON (``json`` is the fast parser for it and gives the same dicts), so that concurrent starts
never read a half-written file; :func:`load` then imports python-escpos' capabilities with Python's
temporary folder pointed inside that cache for the moment of the import and removes the empty
folder it made there. ``printer/__init__.py`` calls it, before any module of the printer imports
python-escpos (≈ 15 ms with the pickle). A folder that cannot be written changes nothing: python-escpos then
works as before. A technician's own ``ESCPOS_CAPABILITIES_PICKLE_DIR`` or
``ESCPOS_CAPABILITIES_FILE`` is left alone.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import logging
import os
import pickle
import platform
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

DIR_VAR = "ESCPOS_CAPABILITIES_PICKLE_DIR"


def cache_folder() -> Path | None:
    """``$XDG_CACHE_HOME/nummerlapp/escpos`` (else ``~/.cache/…``); None without a home folder."""
    root = os.environ.get("XDG_CACHE_HOME")
    if not root:
        try:
            root = str(Path.home() / ".cache")
        except RuntimeError:  # no HOME and no passwd entry (a bare service account)
            return None
    return Path(root) / "nummerlapp" / "escpos"


def source_file() -> Path | None:
    """python-escpos' ``capabilities.json``, found without importing python-escpos."""
    spec = importlib.util.find_spec("escpos")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "capabilities.json"


def prepare(folder: Path | None = None) -> Path | None:
    """Make python-escpos load its database from a fresh pickle in ``folder``. → that folder, or
    None when it was left to python-escpos (a technician's setting, or a folder we cannot write)."""
    if DIR_VAR in os.environ or "ESCPOS_CAPABILITIES_FILE" in os.environ:
        return None
    folder = folder or cache_folder()
    source = source_file()
    if source is None or folder is None:
        return None
    # the name python-escpos looks for
    target = folder / f"{platform.python_version()}.capabilities.pickle"
    try:
        if not target.exists() or target.stat().st_mtime < source.stat().st_mtime:
            folder.mkdir(parents=True, exist_ok=True)
            data = json.loads(source.read_text(encoding="utf-8"))
            partial = folder / f".{target.name}.{os.getpid()}"
            with open(partial, "wb") as out:
                pickle.dump(data, out, protocol=2)
            os.replace(partial, target)
    except (OSError, ValueError) as e:
        log.debug("python-escpos parses its printer database itself (%s)", e)
        return None
    os.environ[DIR_VAR] = str(folder)
    return folder


def load() -> None:
    """Import ``escpos.capabilities`` from the cache, leaving no folder behind in /tmp."""
    folder = prepare() or cache_folder()
    scratch = None if folder is None else folder / "tmp"
    try:
        if scratch is None:
            raise FileNotFoundError("no cache folder")
        scratch.mkdir(parents=True, exist_ok=True)
    except OSError:
        importlib.import_module("escpos.capabilities")  # python-escpos' own way: a folder in /tmp
        return
    saved = tempfile.tempdir
    tempfile.tempdir = str(scratch)
    try:
        importlib.import_module("escpos.capabilities")  # the pickle is read at import
    finally:
        tempfile.tempdir = saved
    for made in scratch.iterdir():
        with contextlib.suppress(OSError):  # empty: the pickle is in ``folder``; else left alone
            made.rmdir()
