"""Alias of ``ipaascommon.content_manger`` (same ``IpaasContentManager``)."""

from ipaascommon.content_manger import IpaasContentManager

__all__ = ["IpaasContentManager"]
