"""The cluster-wide cache available to steps (``IpaasContentManager``).

The module name keeps the original product's spelling (``content_manger``);
``ipaascommon.ipaas_manager`` exports the same class.

Values are pickled here and stored by the node (replicated, shared by every
run of every application).  Keys are non-empty strings.  ``expiry`` is a
number of seconds (an ``int``, a ``float`` or a ``datetime.timedelta``);
``None`` or ``0`` means the entry never expires.  Expiry is enforced by the
node: an expired entry reads as ``None``.
"""

import datetime
import json
import pickle

PICKLE_PROTOCOL = 4


def _host():
    try:
        import _ishost
    except ImportError:
        raise RuntimeError(
            "the Integration Service cache is only available while a step runs inside "
            "an Integration Service runner (module _ishost is missing)"
        ) from None
    return _ishost


def _check_key(key):
    if not isinstance(key, str):
        raise TypeError("a cache key must be a string, got %s" % type(key).__name__)
    if not key:
        raise ValueError("a cache key must not be empty")
    return key


def _expiry_seconds(expiry):
    if expiry is None:
        return None
    if isinstance(expiry, bool):
        raise TypeError("expiry must be a number of seconds, got a bool")
    if isinstance(expiry, datetime.timedelta):
        seconds = expiry.total_seconds()
    elif isinstance(expiry, (int, float)):
        seconds = float(expiry)
    elif isinstance(expiry, str):
        try:
            seconds = float(expiry.strip())
        except ValueError:
            raise ValueError("expiry must be a number of seconds, got %r" % (expiry,)) from None
    else:
        raise TypeError("expiry must be a number of seconds, got %s" % type(expiry).__name__)
    if seconds != seconds or seconds < 0:
        raise ValueError("expiry must be a positive number of seconds (or None for no expiry), got %r" % (expiry,))
    if seconds == 0:
        return None
    return seconds


class IpaasContentManager:
    """Read and write the shared cache.

    Instances hold no state; create one wherever convenient.
    """

    def __init__(self, *args, **kwargs):
        # The original accepted connection options; they mean nothing here.
        pass

    def save_to_cache(self, key, value, expiry=None):
        """Store ``value`` (anything that pickles) under ``key``.

        ``expiry``: seconds until the entry expires; ``None``/``0`` = never.
        A later save under the same key replaces the entry.
        """
        _check_key(key)
        seconds = _expiry_seconds(expiry)
        try:
            blob = pickle.dumps(value, protocol=PICKLE_PROTOCOL)
        except Exception as exc:
            raise TypeError(
                "the value for cache key %r (a %s) cannot be pickled: %s"
                % (key, type(value).__name__, exc)
            ) from exc
        _host().cache_set(key, blob, seconds)

    def get_from_cache(self, key):
        """The value stored under ``key``; ``None`` when absent or expired."""
        _check_key(key)
        blob = _host().cache_get(key)
        if blob is None:
            return None
        try:
            return pickle.loads(bytes(blob))
        except Exception as exc:
            raise ValueError(
                "the cache entry %r cannot be unpickled: %s: %s" % (key, type(exc).__name__, exc)
            ) from exc

    def delete_from_cache(self, key):
        """Remove the entry; removing an absent key is not an error."""
        _check_key(key)
        _host().cache_delete(key)

    def batch_data_and_save_to_cache(self, data, expiry=None):
        """Store every ``{key: value}`` of ``data`` (each value pickled on its
        own), in key order; answers the keys stored.  Every key and value is
        checked before anything is stored, so a bad item stores nothing."""
        if not isinstance(data, dict):
            raise TypeError("batch_data_and_save_to_cache expects a dict of key -> value, got %s"
                            % type(data).__name__)
        seconds = _expiry_seconds(expiry)
        blobs = []
        for key in sorted(data, key=lambda k: (not isinstance(k, str), str(k))):
            _check_key(key)
            value = data[key]
            try:
                blobs.append((key, pickle.dumps(value, protocol=PICKLE_PROTOCOL)))
            except Exception as exc:
                raise TypeError(
                    "the value for cache key %r (a %s) cannot be pickled: %s"
                    % (key, type(value).__name__, exc)
                ) from exc
        host = _host()
        for key, blob in blobs:
            host.cache_set(key, blob, seconds)
        return [key for key, _ in blobs]

    def load_from_cache_by_key(self, key):
        """The value stored under ``key`` (``None`` when absent or expired);
        the name packs of the original product use for ``get_from_cache``."""
        return self.get_from_cache(key)

    def get_application_dict_from_db(self, app_name):
        """The stored document of application ``app_name`` as a dict (its
        steps, ``app_variables`` and every other key as uploaded); ``None``
        when there is no such application."""
        if not isinstance(app_name, str) or not app_name:
            raise ValueError("an application name must be a non-empty string, got %r" % (app_name,))
        text = _host().application_get(app_name)
        return None if text is None else json.loads(text)
