"""Stand-in for the arches package (see ../README.md)."""
__version__ = "0.0.0-stub"
