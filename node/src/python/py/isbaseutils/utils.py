"""Conversions packs import from ``isbaseutils.utils`` (the same functions
as ``ipaascommon.ipaas_utils``)."""

from ipaascommon.ipaas_utils import singleton, str_to_bool

__all__ = ["singleton", "str_to_bool"]
