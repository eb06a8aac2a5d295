"""Parameters: declaration, values, defaults, required checks, types, app variables."""

import pytest

from helpers import run, run_ok, step_source
from ipaascommon.ipaas_exceptions import InvalidStepParameter
from ipaascore import parameter_types as pt

DECLARING = step_source(
    """
    class Params(BaseStep):
        def __init__(self):
            pass  # no super().__init__(), as real SyncPacks write it

        def execute(self):
            self.new_step_parameter(name="declared", default_value="the default")
            self.new_step_parameter(name="listy", default_value=[1, 2])
            out = {}
            for name in NAMES:
                out[name] = self.get_parameter(name)
            self.save_data_for_next_step(out)

    NAMES = ["declared", "listy", "undeclared"]
    """
)


def test_value_from_entry_else_default_else_none():
    assert run_ok(DECLARING) == {"declared": "the default", "listy": [1, 2], "undeclared": None}
    assert run_ok(DECLARING, parameters={"declared": 7, "undeclared": "given"}) == {
        "declared": 7, "listy": [1, 2], "undeclared": "given"}
    # a null entry counts as absent
    assert run_ok(DECLARING, parameters={"declared": None})["declared"] == "the default"


def test_parameters_declared_in_init_without_super():
    source = step_source(
        """
        class InitPass(BaseStep):
            def __init__(self):
                self.new_step_parameter(name="who", description="", sample_value="world",
                                        default_value="world", required=False)

            def execute(self):
                self.save_data_for_next_step("hello " + self.get_parameter("who"))
        """
    )
    assert run_ok(source) == "hello world"
    assert run_ok(source, parameters={"who": "there"}) == "hello there"


def test_returned_values_are_copies():
    source = step_source(
        """
        class Mutates(BaseStep):
            def __init__(self):
                self.new_step_parameter(name="items", default_value=["a"])

            def execute(self):
                first = self.get_parameter("items")
                first.append("changed")
                self.save_data_for_next_step(self.get_parameter("items"))
        """
    )
    assert run_ok(source) == ["a"]
    assert run_ok(source, parameters={"items": ["x"]}) == ["x"]


def test_redeclaring_replaces():
    source = step_source(
        """
        class Redeclare(BaseStep):
            def __init__(self):
                self.new_step_parameter(name="p", default_value=1)
                self.new_step_parameter(name="p", default_value=2)

            def execute(self):
                self.save_data_for_next_step(self.get_parameter("p"))
        """
    )
    assert run_ok(source) == 2


def test_add_step_parameter_from_object():
    source = step_source(
        """
        class Spec(object):
            name = "region"
            description = "region id"
            sample_value = "eu"
            default_value = "us"
            required = False
            param_type = parameter_types.StringParameterShort()


        class Minimal(object):
            name = "minimal"


        class FromObject(BaseStep):
            def __init__(self):
                self.add_step_parameter_from_object(Spec())
                self.add_step_parameter_from_object(Minimal())
                self.add_step_parameter_from_object({"name": "from_dict", "default_value": 3})

            def execute(self):
                self.save_data_for_next_step([self.get_parameter("region"),
                                              self.get_parameter("minimal"),
                                              self.get_parameter("from_dict")])
        """
    )
    assert run_ok(source) == ["us", None, 3]
    assert run_ok(source, parameters={"region": 42}) == ["42", None, 3]  # converted to str
    from ipaascore import _runner
    meta = _runner.validate("FromObject", source)
    assert meta["parameters"][0] == {"name": "region", "description": "region id", "sample_value": "eu",
                                     "default_value": "us", "required": False,
                                     "type": "StringParameterShort"}
    assert meta["parameters"][1]["description"] == "" and meta["parameters"][1]["type"] is None


REQUIRED = step_source(
    """
    class Required(BaseStep):
        def __init__(self):
            self.new_step_parameter(name="a", required=True)
            self.new_step_parameter(name="b", required=True)
            self.new_step_parameter(name="c", required=True, default_value="dflt")
            self.new_step_parameter(name="d", required=False)

        def validate_parameter_values(self):
            # skip the runner's automatic check so execute() can call it itself
            return True

        def execute(self):
            try:
                BaseStep.validate_parameter_values(self)
            except ipaas_exceptions.MissingRequiredStepParameter as exc:
                self.save_data_for_next_step({"missing": exc.missing, "message": str(exc)})
            else:
                self.save_data_for_next_step("all present")
    """
)


def test_validate_parameter_values_lists_every_missing_parameter():
    result = run_ok(REQUIRED, step_name="Req Step")
    assert result["missing"] == ["a", "b"]
    assert result["message"] == "missing required parameters of step 'Req Step': a, b"
    result = run_ok(REQUIRED, parameters={"a": "", "b": 0})
    assert result["missing"] == ["a"]  # an empty string is no value; 0 is a value
    assert run_ok(REQUIRED, parameters={"a": 1, "b": False}) == "all present"


def test_runner_checks_required_parameters():
    source = REQUIRED.replace("def validate_parameter_values", "def _unused")
    response = run(source, parameters={"b": 1})
    assert response["ok"] is False
    assert response["error_type"] == "MissingRequiredStepParameter"
    assert response["message"] == "missing required parameter of step 'Required': a"


# ---------------------------------------------------------------- parameter types
TYPED = step_source(
    """
    class Typed(BaseStep):
        def __init__(self):
            self.new_step_parameter(name="short", param_type=parameter_types.StringParameterShort())
            self.new_step_parameter(name="long", param_type=parameter_types.StringParameterLong())
            self.new_step_parameter(name="json", param_type=parameter_types.JSONParameter())
            self.new_step_parameter(name="array", param_type=parameter_types.ArrayParameterString())
            self.new_step_parameter(name="toggle", param_type=parameter_types.BoolParameterToggle(),
                                    default_value=True)
            self.new_step_parameter(name="number", param_type=parameter_types.NumberParameter())
            self.new_step_parameter(name="secret", param_type=parameter_types.PasswordParameter())

        def execute(self):
            self.save_data_for_next_step(self.get_parameter(WHICH))

    WHICH = "%s"
    """
)


def typed(which, value, **overrides):
    parameters = {} if value is NOTHING else {which: value}
    return run(TYPED % which, parameters=parameters, **overrides)


NOTHING = object()


@pytest.mark.parametrize("which,value,expected", [
    ("short", "text", "text"),
    ("short", 12, "12"),
    ("long", "line 1\nline 2", "line 1\nline 2"),
    ("long", 1.5, "1.5"),
    ("json", '{"a": [1, 2]}', {"a": [1, 2]}),
    ("json", "{'a': True, 'b': None}", {"a": True, "b": None}),
    ("json", "[1, 2]", [1, 2]),
    ("json", {"already": "parsed"}, {"already": "parsed"}),
    ("json", "  ", None),
    ("array", "a, b ,c", ["a", "b", "c"]),
    ("array", '["x", "y"]', ["x", "y"]),
    ("array", [1, "two", True], ["1", "two", "True"]),
    ("array", "", []),
    # Toggles pass the raw value through: real steps call .lower() on it
    # or wrap it in str_to_bool themselves.
    ("toggle", "yes", "yes"),
    ("toggle", "OFF", "OFF"),
    ("toggle", 0, 0),
    ("toggle", False, False),
    ("toggle", NOTHING, True),
    ("number", "12", 12),
    ("number", " 1.5 ", 1.5),
    ("number", "1e3", 1000.0),
    ("number", 7, 7),
    # A password parameter's value is a secret: the step gets it, but what
    # it saves holds it masked, as its log does.
    ("secret", "hunter22", "******"),
])
def test_conversions(which, value, expected):
    response = typed(which, value)
    assert response["ok"], response
    import pickle
    result = pickle.loads(response["pickle"]) if response["pickle"] is not None else None
    assert result == expected
    assert type(result) is type(expected)


@pytest.mark.parametrize("which,value,fragment", [
    ("short", {"a": 1}, "expected a string (StringParameterShort), got dict"),
    ("long", [1], "expected a string (StringParameterLong), got list"),
    ("json", "{bad json", "not valid JSON"),
    ("json", object.__name__, "not valid JSON"),
    ("array", [{"a": 1}], "item 0 of the list must be a string"),
    ("array", "[1, ", "not a valid list"),
    ("array", 5, "expected a list of strings"),
    ("number", "abc", "expected a number"),
    ("number", True, "expected a number, got the boolean True"),
    ("number", "inf", "finite"),
])
def test_conversion_errors(which, value, fragment):
    response = typed(which, value)
    assert response["ok"] is False
    assert response["error_type"] == "InvalidStepParameter"
    assert fragment in response["message"]
    assert response["message"].startswith("parameter '%s' of step 'Typed' (" % which)


def test_a_conversion_error_is_reported_without_the_errors_behind_it():
    # The message already says what is wrong; the parse errors met on the way
    # (JSON, then Python literal) are not chained into the step's traceback.
    response = typed("json", "{bad json")
    assert response["ok"] is False
    assert "Expecting property name" in response["message"]
    assert "During handling of the above exception" not in response["traceback"]
    assert "JSONDecodeError" not in response["traceback"]
    assert response["traceback"].count("Traceback (most recent call last)") == 1


def test_password_errors_do_not_show_the_value():
    response = typed("secret", ["s3cr3t-value"])
    assert response["ok"] is False
    assert "s3cr3t-value" not in response["message"]
    assert "PasswordParameter" in response["message"]


def test_password_values_are_masked_in_logs(host):
    source = step_source(
        """
        class Login(BaseStep):
            def __init__(self):
                self.new_step_parameter(name="password", param_type=parameter_types.PasswordParameter())

            def execute(self):
                password = self.get_parameter("password")
                self.logger.info("logging in with %s", password)
                print("pw=" + password)
        """
    )
    assert run(source, parameters={"password": "pa55word"})["ok"]
    assert host.messages() == ["logging in with ******", "pw=******"]


def test_conversion_happens_after_substitution():
    response = typed("toggle", "${appvar.enabled}",
                     app_variables=[{"name": "enabled", "value": "false"}])
    assert response["ok"], response
    import pickle
    assert pickle.loads(response["pickle"]) == "false"
    response = typed("number", "${config.port}", config={"port": "8443"})
    assert pickle.loads(response["pickle"]) == 8443


def test_a_toggle_default_given_as_text_keeps_its_string_methods():
    """Real pack steps call .lower() on a toggle's value."""
    source = step_source(
        """
        class Lowered(BaseStep):
            def __init__(self):
                self.new_step_parameter(name="flag", default_value="False",
                                        param_type=parameter_types.BoolParameterToggle())

            def execute(self):
                self.save_data_for_next_step(self.get_parameter("flag").lower() == "true")
        """
    )
    assert run_ok(source) is False
    assert run_ok(source, parameters={"flag": "TRUE"}) is True


def test_optional_query_style_bool_toggle():
    """The original manual's extended-step example: str_to_bool(get_parameter(...))."""
    source = step_source(
        """
        from ipaascommon.ipaas_utils import str_to_bool

        class OptionalStep(BaseStep):
            def __init__(self):
                self.new_step_parameter(name="enable", description="Should this step run.",
                                        default_value=True, required=False,
                                        param_type=parameter_types.BoolParameterToggle())

            def execute(self):
                enabled = str_to_bool(self.get_parameter("enable", None))
                if enabled:
                    self.save_data_for_next_step("ran")
                else:
                    self.logger.flow("Step is Disabled. Returning empty dict.")
                    self.save_data_for_next_step(dict())
        """
    )
    assert run_ok(source) == "ran"
    assert run_ok(source, parameters={"enable": "false"}) == {}


def test_parameter_type_objects_directly():
    assert pt.StringParameterShort().name == "StringParameterShort"
    assert pt.StringParameterLong().type_name == "StringParameterLong"
    names = [cls().name for cls in (pt.JSONParameter, pt.ArrayParameterString, pt.BoolParameterToggle,
                                    pt.NumberParameter, pt.PasswordParameter)]
    assert names == ["JSONParameter", "ArrayParameterString", "BoolParameterToggle",
                     "NumberParameter", "PasswordParameter"]
    for cls in (pt.StringParameterShort, pt.StringParameterLong, pt.JSONParameter,
                pt.ArrayParameterString, pt.BoolParameterToggle, pt.NumberParameter,
                pt.PasswordParameter):
        assert cls().convert(None) is None
    assert pt.BoolParameterToggle(some_option=1).options == {"some_option": 1}
    with pytest.raises(InvalidStepParameter):
        pt.NumberParameter().convert([1])
    assert pt.JSONParameter().convert(b'{"b": 1}') == {"b": 1}
    assert pt.StringParameterShort().convert(b"bytes") == "bytes"


# ---------------------------------------------------------------- app variables
APPVAR = step_source(
    """
    class AppVar(BaseStep):
        def execute(self):
            self.save_data_for_next_step({name: self.get_app_variable(name)
                                          for name in ["host", "port", "user", "none", "unknown"]})
    """
)


def test_get_app_variable_order():
    variables = [
        {"name": "host", "value": "10.0.0.1", "default_value": "localhost", "required": True},
        {"name": "port", "value": None, "default_value": 443},
        {"name": "user", "value": "admin", "default_value": None},
        {"name": "none", "value": None, "default_value": None},
    ]
    result = run_ok(APPVAR, app_variables=variables, run_params={"user": "operator"})
    assert result == {"host": "10.0.0.1", "port": 443, "user": "operator", "none": None, "unknown": None}
    result = run_ok(APPVAR, app_variables=variables, run_params={"unknown": 0})
    assert result["unknown"] == 0  # a run parameter needs no declaration


# ---------------------------------------------------------------- compatibility details
def test_parameters_dict_and_assigned_values():
    """Real SyncPack pattern: a child step replaces a parent's parameter and
    assigns its value before running the parent's execute()."""
    source = step_source(
        """
        class QueryBase(BaseStep):
            def __init__(self):
                self.new_step_parameter(name="relative_url", required=True)
                self.new_step_parameter(name="method", default_value="GET")

            def execute(self):
                self.save_data_for_next_step({"url": self.get_parameter("relative_url"),
                                              "method": self.get_parameter("method")})


        class QueryDisabled(QueryBase):
            def __init__(self):
                super(QueryDisabled, self).__init__()
                self.new_step_parameter(name="vcug", default_value=7)
                del self.parameters["relative_url"]
                self.new_step_parameter(name="relative_url",
                                        param_type=parameter_types.StringParameterShort())

            def execute(self):
                rel_url = self.parameters.get("relative_url")
                before = rel_url.value
                rel_url.value = "/api/device?cug=%s" % self.get_parameter("vcug")
                super(QueryDisabled, self).execute()
                data = self.get_current_saved_data()
                data["before"] = before
                data["names"] = list(self.parameters)
                data["method_value"] = self.parameters["method"].value
        """
    )
    result = run_ok(source, parameters={"relative_url": "/from/app", "method": "POST"})
    assert result == {"url": "/api/device?cug=7", "method": "POST", "before": "/from/app",
                      "names": ["method", "vcug", "relative_url"], "method_value": "POST"}
    from ipaascore import _runner
    meta = _runner.validate("QueryDisabled", source)
    assert [(p["name"], p["required"]) for p in meta["parameters"]] == [
        ("method", False), ("vcug", False), ("relative_url", False)]


def test_other_parameter_types_of_the_original_load():
    source = step_source(
        """
        from ipaascore.parameter_types import MappingParameterStaticOneToOne

        class Mapping(BaseStep):
            def __init__(self):
                self.new_step_parameter(
                    name="adapter_sync", default_value="enabled",
                    param_type=parameter_types.SelectStaticDropdownParameter(["off", "all", "enabled"]))
                self.new_step_parameter(
                    name="attribute_map", default_value={},
                    param_type=MappingParameterStaticOneToOne([], [], "Left", "Right", custom=True))

            def execute(self):
                self.save_data_for_next_step([self.get_parameter("adapter_sync"),
                                              self.get_parameter("attribute_map")])
        """
    )
    from ipaascore import _runner
    meta = _runner.validate("Mapping", source)
    assert [p["type"] for p in meta["parameters"]] == [
        "SelectStaticDropdownParameter", "MappingParameterStaticOneToOne"]
    assert run_ok(source, parameters={"attribute_map": {"a": "b"}}) == ["enabled", {"a": "b"}]
    assert pt.SelectStaticDropdownParameter(["x"]).choices == ["x"]
    assert pt.MappingParameterStaticOneToOne is pt.MappingParameterStaticOneToOne
    with pytest.raises(AttributeError):
        pt.not_a_parameter_type


def test_step_state_survives_copy():
    source = step_source(
        """
        import copy

        class Copies(BaseStep):
            def __init__(self):
                self.new_step_parameter(name="p", default_value="d")

            def execute(self):
                clone = copy.deepcopy(self)
                self.save_data_for_next_step([clone.get_current_saved_data(), clone.get_parameter("p"),
                                              clone.get_name()])
        """
    )
    assert run_ok(source, step_name="Named", parameters={"p": "given"}) == [None, "given", "Named"]
