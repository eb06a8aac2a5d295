"""Helpers shared by Integration Service steps.

Submodules:

* ``ipaas_exceptions`` -- exceptions steps raise or catch;
* ``ipaas_utils`` -- small conversions (``str_to_bool``);
* ``json_utils`` -- lenient JSON parsing (``get_dict_from_ex_json_str``);
* ``content_manger`` (spelled as in the original product) and its alias
  ``ipaas_manager`` -- ``IpaasContentManager``, the cluster-wide cache;
* ``report_manager`` -- ``StandardReport`` and ``ParentReport``, the tables
  a step builds for its run's report (column by column).
"""
