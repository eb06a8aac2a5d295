"""Lenient parsing of JSON-like text."""

import ast
import json


def _shorten(text, limit=80):
    text = repr(text)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text


def get_dict_from_ex_json_str(value):
    """Return the dict that ``value`` describes.

    * a ``dict`` is returned as is;
    * a ``str`` (or UTF-8 ``bytes``) is parsed as JSON first, then as a
      Python literal (``ast.literal_eval``: single quotes, ``True``/``None``,
      tuples ...); the result must be a dict.

    Anything else -- another type, text that parses as neither, or text that
    parses to something other than a dict -- raises ``ValueError`` saying
    what was received.
    """
    if isinstance(value, dict):
        return value
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("expected JSON text describing an object, got bytes that are not UTF-8") from None
    if not isinstance(value, str):
        raise ValueError(
            "expected a dict or JSON text describing an object, got %s" % type(value).__name__
        )
    text = value.strip()
    if not text:
        raise ValueError("expected JSON text describing an object, got an empty string")
    json_error = None
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        json_error = exc
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            raise ValueError(
                "cannot parse %s as JSON (%s) nor as a Python literal" % (_shorten(text), json_error)
            ) from None
    if not isinstance(parsed, dict):
        raise ValueError(
            "expected JSON text describing an object ({...}), but %s is a %s"
            % (_shorten(text), type(parsed).__name__)
        )
    return parsed
