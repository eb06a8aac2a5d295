"""Types a step parameter can declare with ``param_type=...``.

Each type has a ``name`` (its type string, reported with the step's
parameters) and ``convert(raw)``, which returns the value converted to the
type or raises ``InvalidStepParameter`` saying what is wrong.  ``None``
always converts to ``None`` (no value).  ``BaseStep.get_parameter`` applies
``convert`` after variable substitution and adds the parameter's name to
the error.
"""

import ast
import json
import math

from ipaascommon.ipaas_exceptions import InvalidStepParameter
from ipaascommon.ipaas_utils import str_to_bool

_SCALARS = (str, int, float, bool)


def _show(value, limit=60):
    text = repr(value)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return "%s %s" % (type(value).__name__, text)


def _parse_structured(text):
    """JSON first, then a Python literal; raises ValueError with the JSON error."""
    try:
        return json.loads(text)
    except ValueError as json_error:
        try:
            return ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise ValueError(str(json_error)) from None


class ParameterType:
    """Base of the parameter types; ``convert`` returns the value unchanged."""

    name = "ParameterType"

    def __init__(self, *args, **kwargs):
        # Accept (and keep) options so declarations written for other
        # versions of the API still load.
        self.args = args
        self.options = kwargs

    @property
    def type_name(self):
        return self.name

    def convert(self, raw):
        return raw

    def __call__(self, raw):
        return self.convert(raw)

    def __repr__(self):
        return "%s()" % type(self).__name__


class _StringType(ParameterType):
    secret = False

    def convert(self, raw):
        if raw is None or isinstance(raw, str):
            return raw
        if isinstance(raw, (bytes, bytearray)):
            try:
                return bytes(raw).decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidStepParameter("expected text, got bytes that are not UTF-8") from None
        if isinstance(raw, _SCALARS):
            return str(raw)
        what = type(raw).__name__ if self.secret else _show(raw)
        raise InvalidStepParameter(
            "expected a string (%s), got %s" % (self.name, what)
        )


class StringParameterShort(_StringType):
    """A one-line string.  Numbers and booleans are converted with ``str``."""

    name = "StringParameterShort"


class StringParameterLong(_StringType):
    """A multi-line string.  Numbers and booleans are converted with ``str``."""

    name = "StringParameterLong"


class PasswordParameter(_StringType):
    """A secret string.  Its value is masked in the step's log records."""

    name = "PasswordParameter"
    secret = True


class JSONParameter(ParameterType):
    """Structured data: a dict, list, number, bool, or text holding JSON
    (Python literal syntax is accepted too).  Empty text means no value."""

    name = "JSONParameter"

    def convert(self, raw):
        if raw is None or isinstance(raw, (dict, list, tuple, int, float, bool)):
            return raw
        if isinstance(raw, (bytes, bytearray)):
            try:
                raw = bytes(raw).decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidStepParameter("expected JSON text, got bytes that are not UTF-8") from None
        if isinstance(raw, str):
            text = raw.strip()
            if not text:
                return None
            try:
                return _parse_structured(text)
            except ValueError as exc:
                raise InvalidStepParameter("not valid JSON: %s (value: %s)" % (exc, _show(raw))) from None
        raise InvalidStepParameter("expected JSON data, got %s" % _show(raw))


class ArrayParameterString(ParameterType):
    """A list of strings.

    Accepts a list/tuple of scalars (each converted with ``str``), text
    holding a JSON (or Python) list, or comma-separated text
    (``"a, b"`` -> ``["a", "b"]``; empty text -> ``[]``).
    """

    name = "ArrayParameterString"

    def convert(self, raw):
        if raw is None:
            return None
        if isinstance(raw, (bytes, bytearray)):
            raw = bytes(raw).decode("utf-8", "replace")
        if isinstance(raw, str):
            text = raw.strip()
            if not text:
                return []
            if text.startswith("["):
                try:
                    items = _parse_structured(text)
                except ValueError as exc:
                    raise InvalidStepParameter(
                        "text starting with '[' is not a valid list: %s" % exc
                    ) from None
                if not isinstance(items, list):
                    raise InvalidStepParameter("expected a list, got %s" % _show(items))
            else:
                return [part.strip() for part in text.split(",") if part.strip()]
        elif isinstance(raw, (list, tuple, set, frozenset)):
            items = list(raw)
        else:
            raise InvalidStepParameter(
                "expected a list of strings (or comma-separated text), got %s" % _show(raw)
            )
        out = []
        for index, item in enumerate(items):
            if isinstance(item, str):
                out.append(item)
            elif isinstance(item, _SCALARS):
                out.append(str(item))
            else:
                raise InvalidStepParameter(
                    "item %d of the list must be a string, got %s" % (index, _show(item))
                )
        return out


class BoolParameterToggle(ParameterType):
    """A boolean toggle, passed through as given.

    Steps written for the original product receive the raw value and
    interpret it themselves: they call ``.lower()`` on a default given as
    text (``"False"``) or wrap the value in
    ``ipaascommon.ipaas_utils.str_to_bool``.  Converting here would break
    them (a ``bool`` has no ``.lower()``), so nothing is converted; the type
    only tells the user interface to show a toggle."""

    name = "BoolParameterToggle"

    def convert(self, raw):
        return raw


class NumberParameter(ParameterType):
    """A number: an ``int`` or ``float`` (booleans are refused), or text
    holding one (``"12"`` -> 12, ``"1.5"`` -> 1.5).  Empty text means no value."""

    name = "NumberParameter"

    def convert(self, raw):
        if raw is None:
            return None
        if isinstance(raw, bool):
            raise InvalidStepParameter("expected a number, got the boolean %r" % raw)
        if isinstance(raw, (int, float)):
            return raw
        if isinstance(raw, (bytes, bytearray)):
            raw = bytes(raw).decode("utf-8", "replace")
        if isinstance(raw, str):
            text = raw.strip()
            if not text:
                return None
            try:
                return int(text)
            except ValueError:
                pass
            try:
                value = float(text)
            except ValueError:
                raise InvalidStepParameter("expected a number, got %s" % _show(raw)) from None
            if math.isnan(value) or math.isinf(value):
                raise InvalidStepParameter("expected a finite number, got %s" % _show(raw))
            return value
        try:
            return float(raw)
        except (TypeError, ValueError):
            raise InvalidStepParameter("expected a number, got %s" % _show(raw)) from None


class SelectStaticDropdownParameter(ParameterType):
    """A choice among fixed options (``SelectStaticDropdownParameter(["off", "on"])``).

    The options are reported with the declaration (``options``); the value
    is passed through unchanged (steps check it themselves, as they did
    with the original product)."""

    name = "SelectStaticDropdownParameter"

    def __init__(self, options=None, *args, **kwargs):
        super().__init__(options, *args, **kwargs)
        self.choices = list(options or [])


_GENERIC_TYPES = {}


def _generic_type(type_name):
    cls = _GENERIC_TYPES.get(type_name)
    if cls is None:
        cls = type(type_name, (ParameterType,), {
            "name": type_name,
            "__doc__": "Parameter type %s: accepted for compatibility; values pass through unchanged." % type_name,
            "__module__": __name__,
        })
        _GENERIC_TYPES[type_name] = cls
    return cls


def __getattr__(attribute):
    """Other parameter types of the original product (``MappingParameter...``,
    ``Select...Parameter`` ...) exist as pass-through types, so steps that
    declare them load unchanged.  (Module ``__getattr__``: Python 3.7+.)"""
    if attribute[:1].isupper() and "Parameter" in attribute and attribute.isidentifier():
        return _generic_type(attribute)
    raise AttributeError("module %r has no attribute %r" % (__name__, attribute))


__all__ = [
    "ParameterType",
    "StringParameterShort",
    "StringParameterLong",
    "JSONParameter",
    "ArrayParameterString",
    "BoolParameterToggle",
    "NumberParameter",
    "PasswordParameter",
    "SelectStaticDropdownParameter",
]
