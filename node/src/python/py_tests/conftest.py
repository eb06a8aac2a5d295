"""Test set-up: a fake ``_ishost`` (the native module the Rust runner
provides) and the embedded packages on ``sys.path``.

The fake host records every log record, keeps an in-memory cache whose
expiry uses a controllable clock (``host.now``), and checks that the
packages call it with the exact argument types of the real module.
"""

import os
import sys
import types

sys.dont_write_bytecode = True  # keep the embedded package directory clean

HERE = os.path.dirname(os.path.abspath(__file__))
PY_DIR = os.path.join(os.path.dirname(HERE), "py")
for path in (PY_DIR, HERE):
    if path not in sys.path:
        sys.path.insert(0, path)

import pytest  # noqa: E402


class Record:
    def __init__(self, levelno, levelname, module, message, created):
        self.levelno = levelno
        self.levelname = levelname
        self.module = module
        self.message = message
        self.created = created

    def __repr__(self):
        return "Record(%d %s %s %r)" % (self.levelno, self.levelname, self.module, self.message)


class FakeHost(types.ModuleType):
    """Stands in for the Rust-provided ``_ishost`` module."""

    def __init__(self):
        super().__init__("_ishost")
        self.reset()

    def reset(self):
        self.records = []
        self.store = {}
        self.apps = {}
        self.now = 1000000.0
        self.calls = []
        # application name -> (state, finished, [(terminal step, data)], failures)
        # of the runs run_application starts
        self.children = {}
        self.started = {}

    # _ishost.log(levelno: int, levelname: str, module: str, message: str, created: float)
    def log(self, levelno, levelname, module, message, created):
        assert type(levelno) is int, levelno
        assert isinstance(levelname, str), levelname
        assert isinstance(module, str), module
        assert isinstance(message, str), message
        assert type(created) is float, created
        self.records.append(Record(levelno, levelname, module, message, created))

    # _ishost.application_get(name: str) -> str | None (the document as JSON)
    def application_get(self, name):
        assert isinstance(name, str)
        self.calls.append(("application_get", name))
        doc = self.apps.get(name)
        import json
        return None if doc is None else json.dumps(doc)

    # _ishost.cache_get(key: str) -> bytes | None
    def cache_get(self, key):
        assert isinstance(key, str)
        self.calls.append(("get", key))
        entry = self.store.get(key)
        if entry is None:
            return None
        value, expires_at = entry
        if expires_at is not None and self.now >= expires_at:
            del self.store[key]
            return None
        return value

    # _ishost.cache_set(key: str, value: bytes, expiry_seconds: float | None)
    def cache_set(self, key, value, expiry_seconds):
        assert isinstance(key, str)
        assert type(value) is bytes
        assert expiry_seconds is None or type(expiry_seconds) is float, expiry_seconds
        self.calls.append(("set", key, expiry_seconds))
        expires_at = None if expiry_seconds is None else self.now + expiry_seconds
        self.store[key] = (value, expires_at)

    # _ishost.cache_delete(key: str) -> None
    def cache_delete(self, key):
        assert isinstance(key, str)
        self.calls.append(("delete", key))
        self.store.pop(key, None)

    # _ishost.run_application(name: str, params: str, blocking: bool) -> str (the run id)
    def run_application(self, name, params, blocking):
        assert isinstance(name, str)
        assert isinstance(params, str)
        assert type(blocking) is bool, blocking
        import json
        self.calls.append(("run_application", name, json.loads(params), blocking))
        if name not in self.children:
            raise RuntimeError("no application named %r" % name)
        run_id = "isapp-%d" % (len(self.started) + 1)
        self.started[run_id] = name
        return run_id

    # _ishost.await_run(run_id: str, timeout_seconds: float)
    #   -> (state, finished, [(step, bytes | None)], [failure])
    def await_run(self, run_id, timeout_seconds):
        assert isinstance(run_id, str)
        assert type(timeout_seconds) is float, timeout_seconds
        import pickle
        self.calls.append(("await_run", run_id, timeout_seconds))
        state, finished, outputs, failures = self.children[self.started[run_id]]
        return (state, finished, [(step, pickle.dumps(data)) for step, data in outputs], failures)

    # helpers for assertions
    def messages(self, module=None, levelno=None):
        return [r.message for r in self.records
                if (module is None or r.module == module) and (levelno is None or r.levelno == levelno)]


HOST = FakeHost()
sys.modules["_ishost"] = HOST


@pytest.fixture(autouse=True)
def host():
    HOST.reset()
    sys.modules["_ishost"] = HOST
    yield HOST
    HOST.reset()
