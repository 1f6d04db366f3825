"""Exporters: they only turn a processed Story into a format; they compute nothing."""
