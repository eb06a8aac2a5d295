"""``BaseStep``: the class every Integration Service step subclasses.

A step declares its metadata and parameters in ``__init__`` and does its
work in ``execute()``::

    class MakeGreeting(BaseStep):
        def __init__(self):
            self.friendly_name = "Make Greeting"
            self.new_step_parameter(name="who", default_value="world")

        def execute(self):
            self.save_data_for_next_step({"greeting": "hello " + self.get_parameter("who")})

``__init__`` does not have to call ``super().__init__()``: the internal state
is created in ``__new__`` (and lazily, should ``__new__`` be bypassed).

The runner gives each instance a ``StepContext`` (the step's name and
parameter values in the application, the application's variables, the
run's configuration, the data of the previous steps).  A step instantiated
outside a runner gets an empty context: parameters take their defaults and
there is no previous data.
"""

import contextlib
import contextvars
import pickle
import sys

from ipaascommon.ipaas_exceptions import (
    DataNotAvailableException,
    InvalidStepParameter,
    MissingRequiredStepParameter,
    StepFailedException,
)
from ipaascommon.ipaas_utils import str_to_bool
from ipaascore import ipaas_logger
from ipaascore import _substitution
from ipaascore.parameter_types import ParameterType

PICKLE_PROTOCOL = 4


class _Nothing:
    """Marker for "nothing saved" / "not set"; survives copy and pickle."""

    __slots__ = ()

    def __reduce__(self):
        return "_NOTHING"

    def __repr__(self):
        return "<nothing>"


_NOTHING = _Nothing()

# The context the runner is giving the instance it is creating; read when an
# instance's state is created (in ``__new__``).  A ContextVar rather than a
# module global, so the value is the creating thread's (or asyncio task's)
# own: a step instantiated elsewhere while the runner creates one gets an
# empty context, never the other step's.
_creation_context = contextvars.ContextVar("ipaascore_step_creation_context", default=None)


@contextlib.contextmanager
def _creating_with(context):
    """Used by the runner: instances created inside the ``with`` block, in
    this thread or task, receive ``context``; the previous value is restored
    on leaving."""
    token = _creation_context.set(context)
    try:
        yield
    finally:
        _creation_context.reset(token)


def _type_name(param_type):
    if param_type is None:
        return None
    name = getattr(param_type, "name", None)
    if isinstance(name, str) and name:
        return name
    if isinstance(param_type, type):
        return param_type.__name__
    return type(param_type).__name__


class StepParameter:
    """A declared parameter.  Extra keyword arguments are kept in ``extra``.

    ``value`` is the parameter's raw value for the current run: a value
    assigned to it by step code (``self.parameters["url"].value = ...``)
    wins; otherwise the step's entry in the application, else
    ``default_value``.  ``get_parameter`` starts from this raw value.
    """

    def __init__(self, name, description="", sample_value="", default_value=None,
                 required=False, param_type=None, **extra):
        if not isinstance(name, str) or not name:
            raise ValueError("a step parameter needs a non-empty string name, got %r" % (name,))
        if isinstance(param_type, type) and issubclass(param_type, ParameterType):
            param_type = param_type()  # declared without parentheses
        if not isinstance(required, bool):
            try:
                required = str_to_bool(required)
            except ValueError:
                required = bool(required)
        self.name = name
        self.description = description
        self.sample_value = sample_value
        self.default_value = default_value
        self.required = required
        self.param_type = param_type
        self.extra = extra
        self._explicit = _NOTHING
        self._owner = None  # the _StepState of the step that declared it

    @property
    def value(self):
        if self._explicit is not _NOTHING:
            return self._explicit
        if self._owner is not None:
            given = self._owner.context.parameters.get(self.name)
            if given is not None:
                return given
        return self.default_value

    @value.setter
    def value(self, new_value):
        self._explicit = new_value

    @property
    def type_name(self):
        """The param_type's type string, or None when the parameter has no type."""
        return _type_name(self.param_type)

    def __repr__(self):
        return "StepParameter(name=%r, required=%r, default_value=%r, type=%r)" % (
            self.name, self.required, self.default_value, self.type_name)


class UpstreamStep:
    """A previous step as the runner describes it: its name, the pickle of
    what it saved (``None``: it saved nothing) and its resolved parameters."""

    def __init__(self, name, data=None, parameters=None, position=0):
        self.name = name
        if data is not None and not isinstance(data, bytes):
            data = bytes(data)
        self.raw = data
        self.parameters = dict(parameters or {})
        self.position = position
        self._value = _NOTHING

    @property
    def has_data(self):
        return self.raw is not None

    def value(self):
        """The unpickled data (unpickled once, on first use)."""
        if self.raw is None:
            raise DataNotAvailableException("step '%s' saved no data" % self.name)
        if self._value is _NOTHING:
            try:
                self._value = pickle.loads(self.raw)
            except Exception as exc:
                raise StepFailedException(
                    "the data saved by step '%s' cannot be unpickled here: %s: %s"
                    % (self.name, type(exc).__name__, exc)
                ) from exc
        return self._value


def _config_dict(config):
    if config is None:
        return {}
    if isinstance(config, dict):
        return dict(config)
    out = {}
    for item in config:  # [{"name": ..., "value": ...}] form
        if isinstance(item, dict) and "name" in item:
            out[item["name"]] = item.get("value")
    return out


class StepContext:
    """Everything a step knows about the run it is part of."""

    def __init__(self, step_name=None, application_name=None, application_id=None,
                 task_id=None, parameters=None, app_variables=None, run_params=None,
                 config=None, upstream=None, generate_report=False):
        self.step_name = step_name
        self.generate_report = bool(generate_report)
        self.application_name = application_name
        self.application_id = application_id
        self.task_id = task_id
        self.parameters = dict(parameters or {})
        self.app_variables = [v for v in (app_variables or []) if isinstance(v, dict)]
        self.run_params = dict(run_params or {})
        self.config = _config_dict(config)
        ups = []
        for index, item in enumerate(upstream or []):
            if isinstance(item, UpstreamStep):
                item.position = index
                ups.append(item)
            else:
                ups.append(UpstreamStep(item.get("name"), item.get("data"),
                                        item.get("parameters"), index))
        self.upstream = ups

    def app_variable(self, name):
        """``(found, value)``: run parameter, else declared value, else default."""
        if name in self.run_params:
            return True, self.run_params[name]
        for variable in self.app_variables:
            if variable.get("name") == name:
                value = variable.get("value")
                if value is None:
                    value = variable.get("default_value")
                return True, value
        return False, None

    def app_variable_names(self):
        names = [v.get("name") for v in self.app_variables if v.get("name") is not None]
        for name in self.run_params:
            if name not in names:
                names.append(name)
        return [str(n) for n in names]

    def upstream_by_name(self, name):
        for item in self.upstream:
            if item.name == name:
                return item
        return None


class _StepState:
    __slots__ = ("params", "context", "saved", "saved_at", "logger", "overrides",
                 "joined_cache")

    def __init__(self, context):
        self.params = {}
        self.context = context if context is not None else StepContext()
        self.saved = _NOTHING
        self.saved_at = None
        self.logger = None
        self.overrides = {}
        self.joined_cache = _NOTHING


def _state_of(step):
    """The internal state of ``step`` (created on first use)."""
    attrs = step.__dict__
    state = attrs.get("_ipaas_state")
    if state is None:
        state = _StepState(_creation_context.get())
        attrs["_ipaas_state"] = state
    return state


def _context_property(name, doc):
    """A step attribute read from the run's context unless step code
    assigned it (the assignment then wins for this step object)."""

    def get(step):
        state = _state_of(step)
        if name in state.overrides:
            return state.overrides[name]
        return getattr(state.context, name)

    def set_(step, value):
        _state_of(step).overrides[name] = value

    return property(get, set_, doc=doc)


def _set_context(step, context):
    state = _state_of(step)
    state.context = context
    state.joined_cache = _NOTHING


def _is_missing(value):
    return value is None or (isinstance(value, str) and value == "")


def _raw_value(parameter, context, name):
    """Raw value of parameter ``name``: assigned ``value``, else the step's
    entry, else ``default_value``; works for foreign parameter objects too."""
    if parameter is not None:
        explicit = getattr(parameter, "_explicit", _NOTHING)
        if explicit is not _NOTHING:
            return explicit
    given = context.parameters.get(name)
    if given is None and parameter is not None:
        given = getattr(parameter, "default_value", None)
    return given


class BaseStep:
    """Base class of steps.  See the module docstring."""

    friendly_name = None
    description = None
    version = None

    def __new__(cls, *args, **kwargs):
        instance = super().__new__(cls)
        instance.__dict__["_ipaas_state"] = _StepState(_creation_context.get())
        return instance

    def __init__(self, *args, **kwargs):
        _state_of(self)

    # ------------------------------------------------------------------
    # run information
    # ------------------------------------------------------------------
    @property
    def logger(self):
        """The step's logger (module = the step's class name)."""
        state = _state_of(self)
        if state.logger is None:
            state.logger = ipaas_logger.StepLogger(type(self).__name__)
        return state.logger

    @logger.setter
    def logger(self, value):
        _state_of(self).logger = value

    application_name = _context_property(
        "application_name", "Name of the application this step runs in (None when run alone).")
    application_id = _context_property(
        "application_id", "Id of the run (``isapp-...``) this step is part of.")
    generate_report = _context_property(
        "generate_report", "True when the application asks for reports (``generate_report``).")

    @property
    def parameters(self):
        """The declared parameters: ``{name: StepParameter}`` in declaration order."""
        return _state_of(self).params

    @parameters.setter
    def parameters(self, value):
        _state_of(self).params = value

    def get_name(self):
        """This step's name in the application (the class name when run alone)."""
        return _state_of(self).context.step_name or type(self).__name__

    # ------------------------------------------------------------------
    # parameters
    # ------------------------------------------------------------------
    def new_step_parameter(self, name, description="", sample_value="", default_value=None,
                           required=False, param_type=None, **kwargs):
        """Declare a parameter; declaring a name again replaces the declaration."""
        parameter = StepParameter(name, description=description, sample_value=sample_value,
                                  default_value=default_value, required=required,
                                  param_type=param_type, **kwargs)
        state = _state_of(self)
        parameter._owner = state
        state.params[name] = parameter
        return parameter

    def add_step_parameter_from_object(self, parameter):
        """Declare a parameter from any object with the attributes of
        ``new_step_parameter``'s arguments (only ``name`` is mandatory)."""
        name = getattr(parameter, "name", None)
        if name is None and isinstance(parameter, dict):
            getter = parameter.get
        else:
            def getter(key, default=None):
                return getattr(parameter, key, default)
        return self.new_step_parameter(
            name=getter("name"),
            description=getter("description", ""),
            sample_value=getter("sample_value", ""),
            default_value=getter("default_value", None),
            required=getter("required", False),
            param_type=getter("param_type", None),
        )

    def get_step_parameters(self):
        """The declared parameters (``StepParameter`` objects) in declaration order."""
        return list(_state_of(self).params.values())

    def get_parameter(self, name, lookup_data=None):
        """The value of parameter ``name``.

        The raw value is a value assigned to ``self.parameters[name].value``
        by step code, else the step's entry in the application (a ``null``
        entry counts as absent), else the declared ``default_value``, else
        ``None``.  ``${...}`` variables are substituted in it (DESIGN 4.4;
        ``lookup_data`` is searched first for plain ``${name}`` variables),
        then the declared ``param_type`` converts it.
        """
        state = _state_of(self)
        context = state.context
        declared = state.params.get(name)
        raw = _raw_value(declared, context, name)
        resolver = _substitution.StepResolver(self, context, lookup_data=lookup_data,
                                              param_name=name, joined=self.__joined_for_lookup)
        value = _substitution.substitute(raw, resolver)
        param_type = getattr(declared, "param_type", None)
        if param_type is not None and value is not None:
            converter = getattr(param_type, "convert", None)
            if converter is None and callable(param_type):
                converter = param_type
            if converter is not None:
                try:
                    value = converter(value)
                except InvalidStepParameter as exc:
                    raise InvalidStepParameter(
                        "parameter '%s' of step '%s' (%s): %s"
                        % (name, self.get_name(), _type_name(param_type), exc)
                    ) from None
            if getattr(param_type, "secret", False) and isinstance(value, str):
                ipaas_logger.add_secret(value)
        return value

    def validate_parameter_values(self):
        """Raise ``MissingRequiredStepParameter`` listing every required
        parameter that has no value (absent, ``null`` or ``""`` in the step's
        entry, and no ``default_value``)."""
        state = _state_of(self)
        missing = []
        for name, parameter in state.params.items():
            if getattr(parameter, "required", False) is not True:
                continue
            if _is_missing(_raw_value(parameter, state.context, name)):
                missing.append(name)
        if missing:
            raise MissingRequiredStepParameter(missing=missing, step_name=self.get_name())
        return True

    def get_app_variable(self, name):
        """Application variable ``name``: run parameter, else the declared
        variable's ``value``, else its ``default_value``; ``None`` when the
        application declares no such variable."""
        found, value = _state_of(self).context.app_variable(name)
        return value if found else None

    # ------------------------------------------------------------------
    # data
    # ------------------------------------------------------------------
    def save_data_for_next_step(self, data):
        """Save ``data`` (anything that pickles) for the next steps; a later
        call replaces the earlier.  The data is pickled when ``execute()``
        returns, so changes made to it after this call are kept."""
        state = _state_of(self)
        state.saved = data
        frame = sys._getframe(1)
        state.saved_at = (frame.f_code.co_filename, frame.f_lineno)

    def get_current_saved_data(self):
        """What this step saved so far (``None`` when nothing)."""
        saved = _state_of(self).saved
        return None if saved is _NOTHING else saved

    def get_available_previous_step_input_positions(self):
        """``[(step_name, position), ...]`` of the previous steps, ordered by
        their index in the application's ``steps`` list, from 0."""
        return [(item.name, item.position) for item in _state_of(self).context.upstream]

    def __available(self):
        names = ["'%s'" % item.name for item in _state_of(self).context.upstream]
        return ", ".join(names) if names else "none"

    def get_data_from_step_by_name(self, name):
        """The data saved by previous step ``name``.

        Raises ``DataNotAvailableException`` when ``name`` is not a previous
        step of this one or saved nothing."""
        item = _state_of(self).context.upstream_by_name(name)
        if item is None:
            raise DataNotAvailableException(
                "step '%s' is not a previous step of '%s' (previous steps: %s)"
                % (name, self.get_name(), self.__available())
            )
        if not item.has_data:
            raise DataNotAvailableException("previous step '%s' saved no data" % name)
        return item.value()

    def get_data_from_step_by_order(self, pos):
        """The data saved by the previous step at position ``pos`` (0 = the
        first previous step in the application's ``steps`` order)."""
        upstream = _state_of(self).context.upstream
        try:
            index = int(pos)
        except (TypeError, ValueError):
            raise DataNotAvailableException("position must be an integer, got %r" % (pos,)) from None
        if isinstance(pos, bool) or index < 0 or index >= len(upstream):
            raise DataNotAvailableException(
                "no previous step at position %r: step '%s' has %d previous step%s%s"
                % (pos, self.get_name(), len(upstream), "" if len(upstream) == 1 else "s",
                   " (%s)" % ", ".join("%d: '%s'" % (u.position, u.name) for u in upstream)
                   if upstream else "")
            )
        item = upstream[index]
        if not item.has_data:
            raise DataNotAvailableException(
                "previous step '%s' (position %d) saved no data" % (item.name, index))
        return item.value()

    def get_parameter_from_previous_step(self, param, step_name):
        """The resolved value of parameter ``param`` of previous step
        ``step_name`` (``None`` when that step had no such parameter)."""
        item = _state_of(self).context.upstream_by_name(step_name)
        if item is None:
            raise DataNotAvailableException(
                "step '%s' is not a previous step of '%s' (previous steps: %s)"
                % (step_name, self.get_name(), self.__available())
            )
        return item.parameters.get(param)

    def join_previous_step_data(self, data_from=None):
        """The data of the previous steps, joined.

        Only steps that saved something other than ``None`` take part, in
        position order; ``data_from`` (a step name or a list of names)
        limits the join to those steps.

        * no data -> ``None``;  one step -> its data as is;
        * all lists -> one list (concatenated);
        * all dicts -> one dict (merged; later positions win on equal keys);
        * all of another same type -> a list of the values;
        * different types -> ``StepFailedException`` naming steps and types.
        """
        upstream = _state_of(self).context.upstream
        if data_from is not None:
            if isinstance(data_from, str):
                data_from = [data_from]
            wanted = list(data_from)
            known = {item.name for item in upstream}
            unknown = [name for name in wanted if name not in known]
            if unknown:
                raise DataNotAvailableException(
                    "cannot join data from %s: not a previous step of '%s' (previous steps: %s)"
                    % (", ".join("'%s'" % n for n in unknown), self.get_name(), self.__available())
                )
            wanted = set(wanted)
            upstream = [item for item in upstream if item.name in wanted]
        items = []
        for item in upstream:
            if item.has_data:
                value = item.value()
                if value is not None:
                    items.append((item.name, value))
        if not items:
            return None
        if len(items) == 1:
            return items[0][1]
        values = [value for _, value in items]
        if all(isinstance(value, list) for value in values):
            joined = []
            for value in values:
                joined.extend(value)
            return joined
        if all(isinstance(value, dict) for value in values):
            merged = {}
            for value in values:
                merged.update(value)
            return merged
        first = type(values[0])
        if all(type(value) is first for value in values):
            return values
        raise StepFailedException(
            "cannot join the data of the previous steps of '%s': they saved different types: %s. "
            "Make them save the same type, or read each with get_data_from_step_by_name()"
            % (self.get_name(),
               ", ".join("'%s' saved %s" % (name, type(value).__name__) for name, value in items))
        )

    def __joined_for_lookup(self):
        state = _state_of(self)
        if state.joined_cache is _NOTHING:
            state.joined_cache = BaseStep.join_previous_step_data(self)
        return state.joined_cache

    # ------------------------------------------------------------------
    def execute(self, *args, **kwargs):
        raise NotImplementedError(
            "step %s does not implement execute(self)" % type(self).__name__)
