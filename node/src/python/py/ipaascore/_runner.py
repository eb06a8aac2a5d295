"""Entry points the Integration Service runner calls (not for step code).

``validate(class_name, source)`` checks an uploaded step and returns its
metadata; ``execute(request)`` runs one step attempt.  Both return plain
dicts of str/int/float/bool/None/bytes/list/dict and never raise for a
problem in the step (they catch ``BaseException``).

Step sources are compiled as a fresh module named after the class, with the
file name ``<step CLASS>`` (its lines are registered in ``linecache`` so
tracebacks and ``inspect.getsource`` show them).  While a step module runs
it is also ``sys.modules[CLASS]`` (so objects of classes it defines can be
pickled) -- unless that name belongs to a module that is not a step.
``execute`` caches compiled classes by ``source_hash``.

While ``validate`` or ``execute`` runs, ``sys.stdout``/``sys.stderr`` are
replaced: each line written becomes a log record (INFO, module ``stdout`` /
ERROR, module ``stderr``), and records of the ``logging`` module are
forwarded (module = logger name).  Both are restored afterwards.  Only
Python-level writes are captured; writes to file descriptors 1/2 by C code
or child processes are not.
"""

import collections
import hashlib
import inspect
import io
import json
import linecache
import logging
import math
import pickle
import sys
import threading
import traceback
import types

from ipaascommon import report_manager as _report_manager
from ipaascore import BaseStep as _basestep_module
from ipaascore import ipaas_logger

BaseStep = _basestep_module.BaseStep

PICKLE_PROTOCOL = 4
MODULE_CACHE_SIZE = 128
_STEP_MARK = "__ipaas_step_module__"

_class_cache = collections.OrderedDict()


# ----------------------------------------------------------------------
# output capture
# ----------------------------------------------------------------------
class _BytesSink:
    def __init__(self, text_stream):
        self._text = text_stream

    def write(self, data):
        self._text.write(bytes(data).decode("utf-8", "replace"))
        return len(data)

    def flush(self):
        pass


class _LineStream(io.TextIOBase):
    """A text stream turning each written line into one log record."""

    def __init__(self, levelno, module):
        super().__init__()
        self._levelno = levelno
        self._module = module
        self._pending = []
        self._lock = threading.RLock()
        self.buffer = _BytesSink(self)

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "replace"

    @property
    def name(self):
        return "<%s>" % self._module

    def writable(self):
        return True

    def isatty(self):
        return False

    def fileno(self):
        raise io.UnsupportedOperation("step output is captured; it has no file descriptor")

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        with self._lock:
            if "\n" not in text:
                self._pending.append(text)
                return len(text)
            lines = text.split("\n")
            lines[0] = "".join(self._pending) + lines[0]
            self._pending = [lines[-1]] if lines[-1] else []
            for line in lines[:-1]:
                ipaas_logger.emit(self._levelno, self._module, line.rstrip("\r"))
        return len(text)

    def flush(self):
        pass

    def drain(self):
        """Emit a last line that has no newline yet."""
        with self._lock:
            if self._pending:
                line = "".join(self._pending)
                self._pending = []
                ipaas_logger.emit(self._levelno, self._module, line.rstrip("\r"))


class _Capture:
    """Context manager: capture stdout/stderr and the logging module."""

    def __enter__(self):
        self._saved = (sys.stdout, sys.stderr)
        self._out = _LineStream(logging.INFO, "stdout")
        self._err = _LineStream(logging.ERROR, "stderr")
        sys.stdout = self._out
        sys.stderr = self._err
        self._handler = ipaas_logger.HostHandler(level=ipaas_logger.get_threshold())
        logging.getLogger().addHandler(self._handler)
        return self

    def __exit__(self, *exc):
        logging.getLogger().removeHandler(self._handler)
        for stream in (self._out, self._err):
            try:
                stream.drain()
            except Exception:
                pass
        sys.stdout, sys.stderr = self._saved
        return False


# ----------------------------------------------------------------------
# compiling step sources
# ----------------------------------------------------------------------
def _filename(class_name):
    return "<step %s>" % class_name


def _register_lines(filename, source):
    lines = source.splitlines(True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    linecache.cache[filename] = (len(source), None, lines, filename)


def _may_register(name):
    current = sys.modules.get(name)
    return current is None or getattr(current, _STEP_MARK, False)


def _load_module(class_name, source, keep_registered):
    """Compile and run ``source`` as a fresh module named ``class_name``."""
    filename = _filename(class_name)
    code = compile(source, filename, "exec", dont_inherit=True)
    _register_lines(filename, source)
    module = types.ModuleType(class_name)
    module.__file__ = filename
    setattr(module, _STEP_MARK, True)
    registered = _may_register(class_name)
    previous = sys.modules.get(class_name)
    if registered:
        sys.modules[class_name] = module
    try:
        exec(code, module.__dict__)
    except BaseException:
        if registered:
            _restore_module(class_name, previous)
        raise
    if registered and not keep_registered:
        _restore_module(class_name, previous)
    return module


def _restore_module(name, previous):
    if previous is None:
        sys.modules.pop(name, None)
    else:
        sys.modules[name] = previous


def _import_named_module(module_name):
    import importlib
    return importlib.import_module(module_name)


class _StepSourceError(Exception):
    """The source loads, but does not define a usable step class."""

    def __init__(self, message, line=None):
        super().__init__(message)
        self.line = line


def _class_line(source, class_name):
    import ast
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == class_name:
            return node.lineno
    return None


def _find_class(module, class_name, source):
    cls = module.__dict__.get(class_name)
    if cls is None:
        found = sorted(name for name, value in module.__dict__.items()
                       if isinstance(value, type) and getattr(value, "__module__", None) == module.__name__)
        raise _StepSourceError(
            "the source defines no class named %s; the class name must equal the step name%s"
            % (class_name, " (classes defined: %s)" % ", ".join(found) if found else ""))
    if not isinstance(cls, type):
        raise _StepSourceError(
            "%s is a %s, not a class; define `class %s(BaseStep):`"
            % (class_name, type(cls).__name__, class_name), _class_line(source, class_name))
    if not issubclass(cls, BaseStep):
        raise _StepSourceError(
            "class %s does not subclass ipaascore.BaseStep.BaseStep; declare it as "
            "`class %s(BaseStep):` after `from ipaascore.BaseStep import BaseStep`"
            % (class_name, class_name), _class_line(source, class_name))
    return cls


def _get_class(class_name, source, source_hash, module_name):
    """The step class, compiled once per ``source_hash`` (or imported once
    per module name) and kept in a small LRU cache."""
    if module_name:
        key = ("module", module_name, class_name)
    else:
        if not source_hash:
            source_hash = hashlib.sha256(source.encode("utf-8")).hexdigest()
        key = ("source", source_hash, class_name)
    cached = _class_cache.get(key)
    if cached is not None:
        _class_cache.move_to_end(key)
        cls, module = cached
        if not module_name and sys.modules.get(class_name) is not module and _may_register(class_name):
            sys.modules[class_name] = module  # pickling finds this module's classes
            _register_lines(_filename(class_name), source)
        return cls
    if module_name:
        module = _import_named_module(module_name)
    else:
        module = _load_module(class_name, source, keep_registered=True)
    cls = _find_class(module, class_name, source or "")
    _class_cache[key] = (cls, module)
    while len(_class_cache) > MODULE_CACHE_SIZE:
        _class_cache.popitem(last=False)
    return cls


# ----------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------
def _safe_str(value):
    try:
        return str(value)
    except BaseException:
        try:
            return repr(value)
        except BaseException:
            return "<%s object>" % type(value).__name__


def json_native(value, _depth=0):
    """``value`` made of JSON types only: tuples become lists, dict keys
    become strings, non-finite floats and any other object become ``repr``."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else repr(value)
    if _depth > 100:
        return _safe_repr(value)
    if isinstance(value, (list, tuple)):
        return [json_native(item, _depth + 1) for item in value]
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                key = _safe_str(key) if isinstance(key, (int, float, bool)) or key is None else _safe_repr(key)
            out[key] = json_native(item, _depth + 1)
        return out
    return _safe_repr(value)


def _safe_repr(value):
    try:
        return repr(value)
    except BaseException:
        return "<%s object (repr() failed)>" % type(value).__name__


def render_json(value):
    """A JSON text showing ``value`` (never raises)."""
    try:
        return json.dumps(json_native(value), default=_safe_repr, allow_nan=False)
    except BaseException:
        return json.dumps(_safe_repr(value))


def _step_line(tb, filename):
    """Line of the deepest traceback frame that belongs to the step source."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _trimmed_traceback(exc):
    """The traceback text, without the leading frames of this module."""
    tb = exc.__traceback__
    start = tb
    while start is not None and start.tb_frame.f_globals.get("__name__") == __name__:
        start = start.tb_next
    if start is None:
        start = tb
    try:
        return "".join(traceback.format_exception(type(exc), exc, start))
    except BaseException:
        return "%s: %s\n" % (type(exc).__name__, _safe_str(exc))


def _exit_message(exc):
    code = exc.code
    if code is None:
        return "the step called sys.exit()"
    if isinstance(code, int):
        return "the step called sys.exit(%d)" % code
    return "the step called sys.exit(%r)" % (code,)


def _failure_message(exc):
    if isinstance(exc, SystemExit):
        return _exit_message(exc)
    if isinstance(exc, KeyboardInterrupt):
        return "the step was interrupted (KeyboardInterrupt)"
    text = _safe_str(exc)
    if not text:
        text = type(exc).__name__
    return text


def _failure(exc, message=None, error_type=None):
    return {
        "ok": False,
        "error_type": error_type or type(exc).__name__,
        "message": ipaas_logger.mask(message if message is not None else _failure_message(exc)),
        "traceback": ipaas_logger.mask(_trimmed_traceback(exc)),
    }


def _with_saved(failure, step):
    """``failure`` with what ``step`` saved before it failed (``pickle``,
    ``json``), which its task shows as its result; a step that saved
    nothing, or failed before it existed, adds nothing."""
    if step is None:
        return failure
    saved = _basestep_module._state_of(step).saved
    if saved is _basestep_module._NOTHING:
        return failure
    saved = ipaas_logger.mask_value(saved)
    try:
        failure["pickle"] = pickle.dumps(saved, protocol=PICKLE_PROTOCOL)
    except BaseException:
        failure["pickle"] = None
    failure["json"] = ipaas_logger.mask(render_json(saved))
    return failure


def _masked_native(value):
    """JSON-native ``value`` with the secrets masked in every string (keys
    included), so a secret that JSON would escape is masked too."""
    if isinstance(value, str):
        return ipaas_logger.mask(value)
    if isinstance(value, list):
        return [_masked_native(item) for item in value]
    if isinstance(value, dict):
        return {ipaas_logger.mask(key): _masked_native(item) for key, item in value.items()}
    return value


def _unrendered_report(report, exc):
    """The report dict shown in place of a report that cannot be rendered."""
    report_id = getattr(report, "report_id", None)
    name = getattr(report, "name", None)
    return {
        "report_id": report_id if isinstance(report_id, str) else None,
        "name": name if isinstance(name, str) else None,
        "app_name": None,
        "section": None,
        "flag": None,
        "columns": [],
        "rows": [],
        "sub_reports": [],
        "error": "the report could not be rendered: %s: %s" % (type(exc).__name__, _failure_message(exc)),
    }


def _reports_json(reports):
    """The JSON text of the list of ``reports``' dicts, secrets masked
    (never raises)."""
    try:
        dicts = []
        for report in reports:
            try:
                rendered = _masked_native(json_native(report.to_dict()))
                json.dumps(rendered, allow_nan=False)
            except BaseException as exc:
                rendered = _masked_native(_unrendered_report(report, exc))
            dicts.append(rendered)
        return ipaas_logger.mask(json.dumps(dicts, allow_nan=False, default=_safe_repr))
    except BaseException as exc:
        try:
            message = "the reports could not be rendered: %s: %s" % (type(exc).__name__, _failure_message(exc))
            return ipaas_logger.mask(json.dumps([{
                "report_id": None, "name": None, "app_name": None, "section": None, "flag": None,
                "columns": [], "rows": [], "sub_reports": [], "error": message,
            }]))
        except BaseException:
            return '[{"report_id": null, "name": null, "app_name": null, "section": null, ' \
                   '"flag": null, "columns": [], "rows": [], "sub_reports": [], ' \
                   '"error": "the reports could not be rendered"}]'


def _attach_reports(response, generate_report):
    """Add ``"reports"`` to ``response`` when the run asks for reports and
    the step built some; stop collecting either way."""
    reports = _report_manager._end_collection()
    if generate_report and reports:
        response["reports"] = _reports_json(reports)
    return response


def _import_hint(exc, packs):
    """What to do about a module a step cannot import. ``packs`` is the
    request's ``syncpacks``: ``{"activated": [pack names], "importable":
    [packs this step's environment holds]}``."""
    name = getattr(exc, "name", None) or ""
    top = name.split(".")[0]
    activated = packs.get("activated") or []
    importable = packs.get("importable") or []
    if top in activated and top not in importable:
        return ("module %r is provided by the SyncPack %s, which this step cannot import: add %s to "
                "requires_dist in the meta.json of the step's pack (plain uploaded steps import only "
                "base_steps_syncpack)" % (name, top, top))
    if top in activated:
        return "module %r is not part of the installed version of the SyncPack %s" % (name, top)
    return ("no activated SyncPack provides module %r: add the distribution that provides it to "
            "requires_dist of the step's pack and install the pack again" % name)


def _call_execute(step):
    method = step.execute
    try:
        signature = inspect.signature(method)
    except (TypeError, ValueError):
        return method()
    try:
        signature.bind()
    except TypeError:
        return method(None)  # execute(self, additional_data) without a default
    return method()


def _instantiate(cls, context):
    with _basestep_module._creating_with(context):
        step = cls()
    if context is not None:
        _basestep_module._set_context(step, context)
    return step


def _parameter_metadata(name, parameter):
    description = getattr(parameter, "description", "")
    return {
        "name": _safe_str(name),
        "description": json_native(description if description is not None else ""),
        "sample_value": json_native(getattr(parameter, "sample_value", "")),
        "default_value": json_native(getattr(parameter, "default_value", None)),
        "required": getattr(parameter, "required", False) is True,
        "type": _basestep_module._type_name(getattr(parameter, "param_type", None)),
    }


def _text_attr(step, name, default):
    value = getattr(step, name, None)
    if value is None or value == "":
        return default
    return value if isinstance(value, str) else _safe_str(value)


# ----------------------------------------------------------------------
# entry points
# ----------------------------------------------------------------------
def validate(class_name, source, module=None):
    """Check a step's source and report its metadata.

    Returns ``{"ok": True, "friendly_name", "description", "version",
    "parameters": [{"name", "description", "sample_value", "default_value",
    "required", "type"}]}`` or ``{"ok": False, "error", "line",
    "traceback"}`` (``line``: line number in the step source, or None).
    ``module``: import that module instead of compiling ``source``.
    """
    filename = _filename(class_name)
    previous_threshold = ipaas_logger.get_threshold()
    try:
        with _Capture():
            try:
                if module:
                    loaded = _import_named_module(module)
                    src = ""
                else:
                    if not isinstance(source, str):
                        raise _StepSourceError("the step source must be text, got %s" % type(source).__name__)
                    loaded = _load_module(class_name, source, keep_registered=False)
                    src = source
                cls = _find_class(loaded, class_name, src)
                step = _instantiate(cls, None)
                params = [_parameter_metadata(name, p)
                          for name, p in _basestep_module._state_of(step).params.items()]
                return {
                    "ok": True,
                    "friendly_name": _text_attr(step, "friendly_name", class_name),
                    "description": _text_attr(step, "description", ""),
                    "version": _text_attr(step, "version", ""),
                    "parameters": params,
                }
            except SyntaxError as exc:
                line = exc.lineno if exc.filename == filename else None
                detail = exc.msg if exc.msg else _safe_str(exc)
                where = " at line %d" % exc.lineno if exc.lineno else ""
                if exc.filename and exc.filename != filename:
                    where = " in %s%s" % (exc.filename, where)
                return {
                    "ok": False,
                    "error": "%s%s: %s; fix the step source" % (type(exc).__name__, where, detail),
                    "line": line,
                    "traceback": "".join(traceback.format_exception_only(type(exc), exc)),
                }
            except _StepSourceError as exc:
                return {"ok": False, "error": _safe_str(exc), "line": exc.line,
                        "traceback": "%s\n" % _safe_str(exc)}
            except BaseException as exc:
                line = _step_line(exc.__traceback__, filename)
                tb_text = _trimmed_traceback(exc)
                in_init = any(frame.name == "__init__" and frame.filename == filename
                              for frame in traceback.extract_tb(exc.__traceback__))
                if in_init:
                    what = "%s.__init__ raised" % class_name
                else:
                    what = "loading the step source raised"
                error = "%s %s: %s" % (what, type(exc).__name__, _failure_message(exc))
                if line is not None:
                    error += " (line %d)" % line
                if isinstance(exc, ImportError):
                    error += "; install the missing module or remove the import"
                return {"ok": False, "error": " ".join(error.split("\n")), "line": line,
                        "traceback": tb_text}
    finally:
        ipaas_logger.set_threshold(previous_threshold)


def execute(request):
    """Run one step attempt.

    ``request``::

        {"task_id": str, "step_name": str, "class_name": str,
         "source": str, "source_hash": str,
         "module": str (optional: import this module instead of compiling source),
         "application_name": str|None, "application_id": str|None,
         "parameters": {name: raw value}, "app_variables": [{"name", "value", "default_value", ...}],
         "run_params": {name: value}, "config": {name: value (decrypted)},
         "secret_config": [config names whose values are masked in logs] (optional),
         "upstream": [{"name": str, "data": bytes|None, "parameters": {name: value}}],
         "log_level": int (or a level name),
         "generate_report": bool (optional: the application's generate_report)}

    The class is instantiated with the context, its required parameters are
    checked (``validate_parameter_values``), then ``execute()`` runs.

    Returns ``{"ok": True, "pickle": bytes|None, "json": str}`` (``pickle``
    None: nothing saved; ``json``: the saved data rendered for display) or
    ``{"ok": False, "error_type", "message", "traceback"}`` for any
    exception, ``SystemExit`` and ``KeyboardInterrupt`` included (with
    ``pickle`` and ``json`` when the step saved data before failing).

    Either response also has ``"reports"`` when ``generate_report`` is true
    and the step created reports (``ipaascommon.report_manager``): a JSON
    text, secrets masked, of the list of the reports that are not a
    sub-report of another, in creation order, each as its ``to_dict()``
    (a report that cannot be rendered is replaced by a dict of the same
    keys with empty content and an ``"error"`` text).  Reports are
    collected from the start to the end of this call only.
    """
    previous_threshold = ipaas_logger.get_threshold()
    try:
        request = dict(request or {})
        ipaas_logger.set_threshold(ipaas_logger.parse_level(request.get("log_level"), logging.NOTSET))
        config = request.get("config") or {}
        secret_names = request.get("secret_config") or []
        context = _basestep_module.StepContext(
            step_name=request.get("step_name") or request.get("class_name"),
            application_name=request.get("application_name"),
            application_id=request.get("application_id"),
            task_id=request.get("task_id"),
            parameters=request.get("parameters"),
            app_variables=request.get("app_variables"),
            run_params=request.get("run_params"),
            config=config,
            upstream=request.get("upstream"),
            generate_report=request.get("generate_report", False),
        )
        ipaas_logger.set_secrets([context.config.get(name) for name in secret_names])
    except BaseException as exc:
        ipaas_logger.set_threshold(previous_threshold)
        ipaas_logger.clear_secrets()
        return _failure(exc, "invalid request: %s" % _failure_message(exc), "InvalidRequest")
    try:
        _report_manager._begin_collection()
        with _Capture():
            response = _run_step(request, context)
            return _attach_reports(response, context.generate_report)
    finally:
        _report_manager._end_collection()
        ipaas_logger.set_threshold(previous_threshold)
        ipaas_logger.clear_secrets()


def _run_step(request, context):
    """``execute``'s work once the context is built: the response without
    its reports (never raises)."""
    step = None
    try:
        class_name = request.get("class_name")
        if not class_name:
            raise ValueError("the request names no class (class_name)")
        source = request.get("source")
        module_name = request.get("module")
        if not module_name and not isinstance(source, str):
            raise ValueError("the request carries no step source (source)")
        try:
            cls = _get_class(class_name, source, request.get("source_hash"), module_name)
        except ModuleNotFoundError as exc:
            hint = _import_hint(exc, request.get("syncpacks") or {})
            return _failure(exc, "%s; %s" % (_failure_message(exc), hint))
        step = _instantiate(cls, context)
        step.validate_parameter_values()
        _call_execute(step)
        state = _basestep_module._state_of(step)
        saved = state.saved
        # The stored result holds secrets masked, as the log does.
        if saved is not _basestep_module._NOTHING:
            saved = ipaas_logger.mask_value(saved)
        if saved is _basestep_module._NOTHING:
            return {"ok": True, "pickle": None, "json": "null"}
        try:
            blob = pickle.dumps(saved, protocol=PICKLE_PROTOCOL)
        except BaseException as exc:
            where = ""
            if state.saved_at is not None:
                where = " (saved at %s line %d)" % state.saved_at
            message = ("the data saved with save_data_for_next_step()%s cannot be pickled: "
                       "it is a %s and pickling failed with %s: %s"
                       % (where, type(saved).__name__, type(exc).__name__, _safe_str(exc)))
            return _failure(exc, message)
        return {"ok": True, "pickle": blob, "json": render_json(saved)}
    except BaseException as exc:
        return _with_saved(_failure(exc), step)
