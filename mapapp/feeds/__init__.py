"""Atom feeds of new and resolved reports, the CAP 1.2 alert of an active disaster layer, and autodiscovery."""
