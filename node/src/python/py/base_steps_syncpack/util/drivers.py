"""Third-party client libraries of the Base Steps pack's steps (database
drivers, the SSH client), imported only when a step needs one, so the pack
loads -- and its other steps run -- in an environment without them."""

import importlib

from ipaascommon import ipaas_exceptions

MASK = "******"


def load(module, pip_name, what):
    """The module ``module``, or ``StepFailedException`` saying that
    ``what`` (e.g. "the MySQL driver") is missing and which pip package
    provides it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ipaas_exceptions.StepFailedException(
            "%s is not installed in this environment: pip install %s into the runners' Python "
            "environment (importing '%s' failed: %s)" % (what, pip_name, module, exc)) from None


def hide(text, *secrets):
    """``text`` with each non-empty secret replaced by ``******`` (driver
    messages are shown to users and logged)."""
    text = str(text)
    for secret in sorted((s for s in secrets if isinstance(s, str) and s), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def describe_error(exc, *secrets):
    """A driver's exception as one line: its message, or its type when it
    has none, with the secrets hidden."""
    message = str(exc).strip() or type(exc).__name__
    return hide(message, *secrets)
