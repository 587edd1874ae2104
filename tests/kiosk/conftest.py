"""The kiosk's test fixtures (the window-less flow's world is tests/kiosk/flowfakes.py)."""

from __future__ import annotations

import pytest

from nummerlapp.tests.kiosk.flowfakes import World


@pytest.fixture
async def world() -> World:
    """A kiosk on the example site that has read the service's state once, guard times over."""
    w = World()
    assert await w.flow.refresh_state()
    w.settle()
    return w
