"""Exceptions of the step API.

Every exception here derives from ``IpaasException`` (itself an
``Exception``), so a step can catch them all at once; they do not derive
from one another, so catching one never swallows another.
"""


class IpaasException(Exception):
    """Base class of the exceptions defined by the step API."""


class StepFailedException(IpaasException):
    """The step cannot do its work.

    Raised by step code (and by the step API, e.g. when a ``${...}`` variable
    cannot be resolved or upstream data cannot be joined); the attempt ends
    in FAILURE with this message.
    """


class MissingRequiredStepParameter(IpaasException):
    """One or more required parameters have no value.

    ``missing`` lists the names of every missing parameter and ``step_name``
    names the step (both may be empty when raised by step code with a plain
    message).
    """

    def __init__(self, message=None, missing=None, step_name=None):
        self.missing = list(missing or [])
        self.step_name = step_name
        if message is None:
            if self.missing:
                message = "missing required parameter%s%s: %s" % (
                    "s" if len(self.missing) > 1 else "",
                    " of step '%s'" % step_name if step_name else "",
                    ", ".join(self.missing),
                )
            else:
                message = "a required parameter is missing"
        super().__init__(message)


class DataNotAvailableException(IpaasException):
    """Data asked from a previous step does not exist.

    Raised when the named (or numbered) step is not a previous step of this
    one, or saved nothing.
    """


class InvalidStepParameter(IpaasException):
    """A parameter value cannot be converted to the parameter's type."""


class MissingRequiredData(IpaasException):
    """Data a step needs is not there: an upstream step saved nothing it
    can use, or a record lacks a field the step relies on."""
