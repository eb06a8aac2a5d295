"""The logger behind ``self.logger`` and the single exit for log records.

Every record -- from ``self.logger``, from captured ``print``/stdout/stderr
output and from the standard ``logging`` module while a step runs -- leaves
the process through ``emit``, which calls
``_ishost.log(levelno, levelname, module, message, created)``.

* Levels are the standard ``logging`` numbers plus ``FLOW = 25`` (between
  INFO and WARNING), registered with ``logging.addLevelName``.
* ``module``: for ``self.logger`` it is the class name of the running step
  (``type(step).__name__``, e.g. ``QueryREST``) -- also when the call is made
  by code inherited from a parent step class; captured output uses
  ``stdout``/``stderr``; records of the ``logging`` module use the logger's
  name.
* Records below the run's log level (``set_threshold``) are dropped.
* Registered secrets (decrypted configuration values, ``PasswordParameter``
  values) are replaced by ``******`` in every message.

Without ``_ishost`` (a step exercised outside a runner) records are written
to the process's original stderr.
"""

import logging
import sys
import time
import traceback

from collections.abc import Mapping

FLOW = 25
logging.addLevelName(FLOW, "FLOW")

CRITICAL = logging.CRITICAL
ERROR = logging.ERROR
WARNING = logging.WARNING
INFO = logging.INFO
DEBUG = logging.DEBUG
NOTSET = logging.NOTSET

MASK = "******"
MIN_SECRET_LENGTH = 3

# The run's log level and secrets are process-wide on purpose (a runner
# executes one step at a time), not ContextVars like the step's context in
# BaseStep: threads the step starts begin with an empty context, and their
# records must still be filtered and, above all, masked.
_threshold = NOTSET
_secrets = []


def level_name(levelno):
    """Name of a level number (``FLOW`` for 25, ``Level 15`` for unnamed ones)."""
    return logging.getLevelName(levelno)


def parse_level(level, default=NOTSET):
    """A level number from an int or a level name (``"DEBUG"``, ``"flow"``, ``"25"``)."""
    if level is None:
        return default
    if isinstance(level, bool):
        return default
    if isinstance(level, int):
        return level
    if isinstance(level, float):
        return int(level)
    if isinstance(level, str):
        text = level.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        value = logging.getLevelName(text.upper())
        if isinstance(value, int):
            return value
    return default


def set_threshold(level):
    """Drop records whose level is below ``level`` from now on."""
    global _threshold
    _threshold = parse_level(level)


def get_threshold():
    return _threshold


def set_secrets(values):
    """Replace the registered secrets by the strings in ``values``."""
    _secrets.clear()
    for value in values or ():
        add_secret(value)


def add_secret(value):
    """Mask ``value`` (a string of at least MIN_SECRET_LENGTH characters) in messages."""
    if isinstance(value, str) and len(value) >= MIN_SECRET_LENGTH and value not in _secrets:
        _secrets.append(value)
        # Longest first, so a secret containing another is masked whole.
        _secrets.sort(key=len, reverse=True)


def clear_secrets():
    _secrets.clear()


def mask(text):
    """``text`` with every registered secret replaced by MASK."""
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def mask_value(value, _depth=0):
    """``value`` with every registered secret masked in the strings it holds
    (dict keys and values, lists, tuples, sets, nested up to 100 deep); the
    same object when nothing in it needed masking. Other objects are kept
    as they are."""
    if not _secrets or _depth > 100:
        return value
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, (bytes, bytearray)):
        try:
            text = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return value
        masked = mask(text)
        return value if masked == text else type(value)(masked.encode("utf-8"))
    if isinstance(value, dict):
        masked = {mask_value(k, _depth + 1): mask_value(v, _depth + 1) for k, v in value.items()}
        same = len(masked) == len(value) and all(
            mk is k and masked[mk] is v for (k, v), mk in zip(value.items(), masked))
        return value if same else masked
    if isinstance(value, (list, tuple, set, frozenset)):
        items = [mask_value(item, _depth + 1) for item in value]
        if all(a is b for a, b in zip(items, value)):
            return value
        if isinstance(value, tuple) and hasattr(value, "_fields"):
            return type(value)(*items)
        return type(value)(items)
    return value


def emit(levelno, module, message, created=None):
    """Send one record to the host unless its level is below the threshold."""
    levelno = int(levelno)
    if levelno < _threshold:
        return
    if not isinstance(message, str):
        message = _safe_str(message)
    message = mask(message)
    if created is None:
        created = time.time()
    name = level_name(levelno)
    try:
        import _ishost
    except ImportError:
        _write_fallback(name, module, message)
        return
    try:
        _ishost.log(levelno, name, str(module), message, float(created))
    except Exception as exc:  # the host is gone: keep the step running
        _write_fallback(name, module, "%s  [log delivery failed: %s]" % (message, exc))


def _write_fallback(levelname, module, message):
    stream = sys.__stderr__
    if stream is None:
        return
    try:
        stream.write("%s %s: %s\n" % (levelname, module, message))
        stream.flush()
    except Exception:
        pass


def _safe_str(value):
    try:
        return str(value)
    except Exception:
        try:
            return repr(value)
        except Exception:
            return "<%s object (str() failed)>" % type(value).__name__


def format_message(msg, args):
    """``msg % args`` as the logging module does it; never raises."""
    text = _safe_str(msg)
    if not args:
        return text
    if len(args) == 1 and isinstance(args[0], Mapping) and args[0]:
        args = args[0]
    try:
        return text % args
    except Exception:
        return "%s %s" % (text, _safe_str(args))


def _exc_text(exc_info):
    if not exc_info:
        return None
    if isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    elif not isinstance(exc_info, tuple):
        exc_info = sys.exc_info()
    if exc_info[0] is None:
        return None
    return "".join(traceback.format_exception(*exc_info)).rstrip("\n")


class StepLogger:
    """Logger of one step; ``module`` is the step's class name.

    Methods take a message and optional ``%``-style arguments, like the
    ``logging`` module: ``self.logger.info("found %d devices", n)``.
    ``exc_info=True`` (or an exception) appends a traceback.
    """

    def __init__(self, module):
        self.module = module
        self.name = module
        self.level = NOTSET

    # -- level handling (accepted for compatibility with logging.Logger) --
    def setLevel(self, level):
        self.level = parse_level(level)

    def getEffectiveLevel(self):
        return max(self.level, _threshold)

    def isEnabledFor(self, level):
        return parse_level(level) >= self.getEffectiveLevel()

    # -- records --
    def log(self, level, msg, *args, **kwargs):
        self._log(parse_level(level), msg, args, **kwargs)

    def _log(self, levelno, msg, args, exc_info=None, stack_info=False, **_ignored):
        if levelno < self.level or levelno < _threshold:
            return
        message = format_message(msg, args)
        text = _exc_text(exc_info)
        if text:
            message = "%s\n%s" % (message, text)
        if stack_info:
            stack = "".join(traceback.format_stack(sys._getframe(2))).rstrip("\n")
            message = "%s\nStack (most recent call last):\n%s" % (message, stack)
        emit(levelno, self.module, message)

    def critical(self, msg, *args, **kwargs):
        self._log(CRITICAL, msg, args, **kwargs)

    fatal = critical

    def error(self, msg, *args, **kwargs):
        self._log(ERROR, msg, args, **kwargs)

    def warning(self, msg, *args, **kwargs):
        self._log(WARNING, msg, args, **kwargs)

    warn = warning

    def flow(self, msg, *args, **kwargs):
        self._log(FLOW, msg, args, **kwargs)

    def info(self, msg, *args, **kwargs):
        self._log(INFO, msg, args, **kwargs)

    def debug(self, msg, *args, **kwargs):
        self._log(DEBUG, msg, args, **kwargs)

    def exception(self, msg, *args, **kwargs):
        """An ERROR record with the traceback of the exception being handled."""
        kwargs.setdefault("exc_info", True)
        self._log(ERROR, msg, args, **kwargs)

    def __repr__(self):
        return "<StepLogger %s>" % self.module


class HostHandler(logging.Handler):
    """``logging`` handler forwarding records of the standard ``logging``
    module to ``emit`` (module = the logger's name)."""

    def emit(self, record):
        try:
            message = self.format(record)
        except Exception:
            message = _safe_str(getattr(record, "msg", ""))
        emit(record.levelno, record.name, message, record.created)
