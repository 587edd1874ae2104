"""Pieces shared by every part of Nummerlapp: the error tree, translations, discovery."""
