"""Small conversions used by steps."""

_TRUE = frozenset({"true", "t", "yes", "y", "1", "on", "enabled", "enable"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "off", "disabled", "disable", "", "none", "null"})


def str_to_bool(value):
    """Interpret ``value`` as a boolean.

    * ``bool`` -> itself; ``None`` -> ``False``;
    * ``int``/``float`` -> ``value != 0``;
    * ``str``/``bytes`` (case and surrounding blanks ignored):
      true, t, yes, y, 1, on, enabled, enable -> ``True``;
      false, f, no, n, 0, off, disabled, disable, none, null and the empty
      string -> ``False``.

    Anything else raises ``ValueError`` naming the value.
    """
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, (int, float)):
        return value != 0
    if isinstance(value, (bytes, bytearray)):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError("cannot interpret %r as a boolean" % (bytes(value),)) from None
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValueError(
            "cannot interpret %r as a boolean; use one of true/false, yes/no, on/off, 1/0" % (value,)
        )
    raise ValueError(
        "cannot interpret a value of type %s as a boolean: %r" % (type(value).__name__, value)
    )


def singleton(cls):
    """Class decorator: every call of the class answers one shared instance
    (created on the first call, with that call's arguments).

    The instance lives as long as the runner process, so it is shared by the
    steps that process runs; it must not hold per-run state."""
    import functools
    import threading

    lock = threading.Lock()
    instances = []

    @functools.wraps(cls, updated=())
    def get_instance(*args, **kwargs):
        if not instances:
            with lock:
                if not instances:
                    instances.append(cls(*args, **kwargs))
        return instances[0]

    get_instance.wrapped_class = cls
    return get_instance
