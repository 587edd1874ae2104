"""Window settings Kivy must know before it creates its window.

Kivy makes the window when ``kivy.core.window`` is first imported, reading ``kivy.config`` then;
so this module imports no Kivy window code, and ``kiosk.cli`` (and tests, benches) call
``configure_window`` before importing ``kiosk.app``.
"""

from __future__ import annotations

import os


def configure_window(width: int, height: int, fullscreen: bool = False) -> None:
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    # Kivy's image providers: SDL2_image only (PNG, JPEG…). The list Kivy would try loads Pillow
    # and its codec libraries into the device (~2 MB resident) though no screen draws an image
    # file (docs/benchmarks/kiosk.md, "Memory").
    os.environ.setdefault("KIVY_IMAGE", "sdl2")
    from kivy.config import Config  # noqa: PLC0415  # Kivy reads its settings at import: the environment is set first

    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "resizable", "0")
    # No MSAA (Kivy's default is 2): offscreen and on llvmpipe it smoothed nothing visible (text is
    # antialiased in its own textures) and cost two full-window buffers, ~55 MB at 1080x1920
    # (docs/benchmarks/kiosk.md, "Memory"). The board does the same (display.app.configure_window).
    Config.set("graphics", "multisamples", "0")
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("kivy", "exit_on_escape", "0")
