"""ficlens: read fan fiction as data."""
__version__ = "0.1.0"
