"""Nummerlapp: the queue-ticket appliance, one import name for every part.

The checkout's folders are the subpackages (``nummerlapp.config``, ``nummerlapp.server``,
``nummerlapp.kiosk``, …): setup.cfg maps this folder to the name ``nummerlapp``, so an install
puts exactly one top-level package into site-packages. docs/ARCHITECTURE.md says why.
"""
