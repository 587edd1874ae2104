"""Window settings Kivy must know before it creates its window (as the kiosk's kiosk/window.py).

Kivy makes the window when ``kivy.core.window`` is first imported, reading ``kivy.config`` then;
so this module imports no Kivy window code, and ``feedback.cli`` (and tests) call
``configure_window`` before importing ``feedback.app``.
"""

from __future__ import annotations

import os


def configure_window(width: int, height: int, fullscreen: bool = False) -> None:
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_IMAGE", "sdl2")  # as the kiosk: no Pillow in the device for Kivy's images
    from kivy.config import Config  # noqa: PLC0415  # Kivy reads its settings at import: the environment is set first

    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "multisamples", "0")  # as the kiosk: MSAA smooths nothing visible here
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("kivy", "exit_on_escape", "0")
