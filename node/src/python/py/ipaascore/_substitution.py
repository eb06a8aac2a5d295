"""``${...}`` variable substitution in parameter values (DESIGN 4.4).

``substitute(value, resolve)`` walks strings, lists, tuples, sets and dicts
(keys and values) and replaces every ``${expr}``:

* a string that is exactly one ``${expr}`` becomes the variable's value
  with its own type;
* inside a longer string each ``${expr}`` is replaced by ``str(value)``;
* dict keys are always substituted as text (they stay strings);
* other values (numbers, booleans, None ...) are returned as they are.

Containers are rebuilt, so the result never shares lists or dicts with the
raw value.  A ``${`` without its closing ``}`` is left as text.  Values
produced by a substitution are not substituted again.

``StepResolver`` resolves ``expr`` for one step: ``appvar.X``, ``config.X``,
``stepfunc.f a b`` / ``step_func.f a b`` and plain names (see its
docstring).
"""

import ast

from collections.abc import Mapping

from ipaascommon.ipaas_exceptions import (
    DataNotAvailableException,
    StepFailedException,
)

_OPEN = "${"
_QUOTES = "'\""
_BRACKETS = {"(": ")", "[": "]", "{": "}"}


def find_variables(text):
    """Yield ``(start, end, inner)`` for each ``${inner}`` in ``text``.

    Braces inside a variable nest, so ``${stepfunc.f ${appvar.x}}`` is one
    variable whose inner text is ``stepfunc.f ${appvar.x}``.
    """
    pos = 0
    length = len(text)
    while True:
        start = text.find(_OPEN, pos)
        if start < 0:
            return
        depth = 0
        index = start + 2
        while index < length:
            char = text[index]
            if char == "{":
                depth += 1
            elif char == "}":
                if depth == 0:
                    break
                depth -= 1
            index += 1
        if index >= length:
            return  # unterminated: the rest is plain text
        yield start, index + 1, text[start + 2:index]
        pos = index + 1


def substitute_text(text, resolve):
    spans = list(find_variables(text))
    if not spans:
        return text
    if len(spans) == 1 and spans[0][0] == 0 and spans[0][1] == len(text):
        return resolve(spans[0][2])
    parts = []
    pos = 0
    for start, end, inner in spans:
        parts.append(text[pos:start])
        parts.append(str(resolve(inner)))
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def _substitute_key(key, resolve):
    if isinstance(key, str) and _OPEN in key:
        spans = list(find_variables(key))
        if not spans:
            return key
        parts = []
        pos = 0
        for start, end, inner in spans:
            parts.append(key[pos:start])
            parts.append(str(resolve(inner)))
            pos = end
        parts.append(key[pos:])
        return "".join(parts)
    return key


def substitute(value, resolve):
    """``value`` with every ``${...}`` replaced using ``resolve(inner_text)``."""
    if isinstance(value, str):
        if _OPEN not in value:
            return value
        return substitute_text(value, resolve)
    if isinstance(value, Mapping):
        return dict(
            (_substitute_key(key, resolve), substitute(item, resolve))
            for key, item in value.items()
        )
    if isinstance(value, list):
        return [substitute(item, resolve) for item in value]
    if isinstance(value, tuple):
        return tuple(substitute(item, resolve) for item in value)
    if isinstance(value, (set, frozenset)):
        return type(value)(substitute(item, resolve) for item in value)
    return value


def split_arguments(text):
    """Split ``stepfunc`` arguments on blanks.

    Blanks inside a nested ``${...}``, inside quotes or inside brackets do
    not split, so ``'a b'``, ``[1, 2]`` and ``${stepfunc.g 1 2}`` stay one
    argument each.  If quotes or brackets are unbalanced, only ``${...}``
    nesting is respected.
    """
    tokens = _split(text, strict=True)
    if tokens is None:
        tokens = _split(text, strict=False)
    return tokens


def _split(text, strict):
    tokens = []
    current = []
    stack = []  # expected closing characters
    quote = None
    index = 0
    length = len(text)
    while index < length:
        char = text[index]
        if quote is not None:
            current.append(char)
            if char == "\\" and index + 1 < length:
                current.append(text[index + 1])
                index += 2
                continue
            if char == quote:
                quote = None
            index += 1
            continue
        if char == "$" and text.startswith(_OPEN, index):
            stack.append("}")
            current.append(_OPEN)
            index += 2
            continue
        if strict and char in _QUOTES:
            quote = char
            current.append(char)
        elif strict and char in _BRACKETS:
            stack.append(_BRACKETS[char])
            current.append(char)
        elif not strict and char == "{" and stack:
            stack.append("}")
            current.append(char)
        elif stack and char == stack[-1]:
            stack.pop()
            current.append(char)
        elif char.isspace() and not stack:
            if current:
                tokens.append("".join(current))
                current = []
        else:
            current.append(char)
        index += 1
    if strict and (quote is not None or stack):
        return None
    if current:
        tokens.append("".join(current))
    return tokens


def parse_literal(text):
    """``text`` as a Python literal when it is one, else ``text`` itself."""
    stripped = text.strip()
    if not stripped:
        return text
    try:
        return ast.literal_eval(stripped)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


_MISSING = object()


def _walk_path(data, name):
    """Look ``name`` up in ``data``: a key first, then a dotted path
    (``device.ip``, ``items.0.id``) through dicts and lists."""
    if isinstance(data, Mapping):
        try:
            if name in data:
                return data[name]
        except TypeError:
            return _MISSING
    if "." not in name:
        return _MISSING
    current = data
    for part in name.split("."):
        if isinstance(current, Mapping):
            if part in current:
                current = current[part]
                continue
            return _MISSING
        if isinstance(current, (list, tuple)) and part.lstrip("-").isdigit():
            index = int(part)
            if -len(current) <= index < len(current):
                current = current[index]
                continue
        return _MISSING
    return current


class StepResolver:
    """Resolves the inside of ``${...}`` for one ``get_parameter`` call.

    * ``appvar.X`` -- application variable X: run parameter, else the
      declared variable's ``value``, else its ``default_value``; a name that
      is neither a run parameter nor declared fails.
    * ``config.X`` -- variable X of the run's configuration (decrypted).
    * ``stepfunc.f a b`` (or ``step_func.f a b``) -- calls method ``f`` of
      the step.  Arguments are split on blanks (quotes, brackets and nested
      ``${...}`` keep blanks); ``${...}`` inside an argument are substituted
      first; an argument that is exactly one ``${...}`` passes the value
      itself when it is not text; text is parsed as a Python literal when it
      is one (``2`` -> 2, ``'a b'`` -> "a b", ``[1, 2]`` -> list), else it is
      passed as text.
    * any other name -- a key of ``lookup_data``, then of the data joined
      from the previous steps when that is a dict; a dotted name
      (``device.ip``) also walks nested dicts and lists.

    An unresolvable variable raises ``StepFailedException`` naming it.
    """

    def __init__(self, step, context, lookup_data=None, param_name=None, joined=None):
        self.step = step
        self.context = context
        self.lookup_data = lookup_data
        self.param_name = param_name
        self._joined = joined  # callable returning the joined upstream data

    def _fail(self, message):
        if self.param_name is not None:
            message = "parameter '%s': %s" % (self.param_name, message)
        raise StepFailedException(message)

    def __call__(self, inner):
        expr = inner.strip()
        if not expr:
            self._fail("empty variable ${}")
        if expr.startswith("appvar."):
            return self._appvar(expr[len("appvar."):].strip())
        if expr.startswith("config."):
            return self._config(expr[len("config."):].strip())
        for prefix in ("stepfunc.", "step_func."):
            if expr.startswith(prefix):
                return self._stepfunc(expr[len(prefix):], prefix)
        return self._name(expr)

    def _appvar(self, name):
        found, value = self.context.app_variable(name)
        if not found:
            known = self.context.app_variable_names()
            self._fail(
                "variable ${appvar.%s} is not defined: no run parameter and no application "
                "variable is named '%s'%s"
                % (name, name, " (application variables: %s)" % ", ".join(known) if known else "")
            )
        return value

    def _config(self, name):
        config = self.context.config
        if name in config:
            return config[name]
        if not config:
            self._fail(
                "variable ${config.%s} cannot be resolved: the run has no configuration "
                "(or its configuration has no variables)" % name
            )
        self._fail(
            "variable ${config.%s} is not defined: the run's configuration has no variable "
            "named '%s'" % (name, name)
        )

    def _stepfunc(self, rest, prefix):
        tokens = split_arguments(rest.strip())
        if not tokens:
            self._fail("${%s} names no method: write ${%sname arg1 arg2}" % (prefix, prefix))
        func_name = tokens[0]
        func = getattr(self.step, func_name, None)
        if func is None or not callable(func):
            self._fail(
                "variable ${%s%s} calls %s, but step %s has no method named '%s'"
                % (prefix, rest.strip(), func_name, type(self.step).__name__, func_name)
            )
        args = [self._argument(token) for token in tokens[1:]]
        return func(*args)

    def _argument(self, token):
        spans = list(find_variables(token))
        if len(spans) == 1 and spans[0][0] == 0 and spans[0][1] == len(token):
            value = self(spans[0][2])
            if isinstance(value, str):
                return parse_literal(value)
            return value
        if spans:
            token = substitute_text(token, self)
        return parse_literal(token)

    def _name(self, name):
        if self.lookup_data is not None:
            value = _walk_path(self.lookup_data, name)
            if value is not _MISSING:
                return value
        joined = None
        if self._joined is not None:
            try:
                joined = self._joined()
            except (StepFailedException, DataNotAvailableException):
                joined = None
        if isinstance(joined, Mapping):
            value = _walk_path(joined, name)
            if value is not _MISSING:
                return value
        self._fail(
            "variable ${%s} cannot be resolved: '%s' is not a key of the lookup data nor of the "
            "data joined from the previous steps (use ${appvar.%s} for an application variable, "
            "${config.%s} for a configuration variable)" % (name, name, name, name)
        )
