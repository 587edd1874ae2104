"""The Kivy widgets every device skin shares (kiosk, exit terminal): painted panels, wrapping and
right-to-left-aware text, pill buttons, the enrolment screen.

It sits above ``client``, ``common`` and ``config`` (the enrolment screen draws ``client.enrol``'s
view): the skins (kiosk/, feedback/, display/) may import it, it imports none of them, and only a
skin's Kivy code imports it (after that skin's ``configure_window``).
"""
