"""Utilities packs of the original product import as ``isbaseutils``:
``isbaseutils.utils`` (``str_to_bool`` and friends) and
``isbaseutils.ipaas_constants`` (names of parameters and settings)."""
