"""Core of the Integration Service step API.

Submodules:

* ``BaseStep`` -- ``BaseStep``, the class every step subclasses;
* ``parameter_types`` -- types a step parameter can declare;
* ``ipaas_logger`` -- the logger behind ``self.logger`` (level ``FLOW``);
* ``_substitution`` -- ``${...}`` variable substitution used by
  ``BaseStep.get_parameter``;
* ``_runner`` -- entry points the Integration Service runner calls
  (``validate``, ``execute``); not for step code.
"""
