"""DESIGN 4.4: ${appvar.X}, ${config.X}, ${stepfunc...}/${step_func...}, ${name}."""

import pickle

import pytest

from helpers import run, step_source, up
from ipaascore import _substitution

SUBST = step_source(
    """
    class Subst(BaseStep):
        def __init__(self):
            self.new_step_parameter(name="p", default_value=DEFAULT)

        def add_numbers(self, a, b):
            return a + b

        def echo(self, *args):
            return list(args)

        def describe(self, *args):
            return [type(a).__name__ for a in args]

        def upper(self, text):
            return text.upper()

        def nothing(self):
            return "called without arguments"

        not_callable = 5

        def execute(self):
            lookup = LOOKUP
            if lookup == "unset":
                self.save_data_for_next_step(self.get_parameter("p"))
            else:
                self.save_data_for_next_step(self.get_parameter("p", lookup))

    DEFAULT = None
    LOOKUP = "unset"
    """
)


def resolve(value, lookup="unset", default=None, **overrides):
    """Run the step with parameter p = value; return the response."""
    source = SUBST.replace('LOOKUP = "unset"', "LOOKUP = %r" % (lookup,)).replace(
        "DEFAULT = None", "DEFAULT = %r" % (default,))
    parameters = {} if value is None else {"p": value}
    return run(source, parameters=parameters, **overrides)


def value_of(value, **kwargs):
    response = resolve(value, **kwargs)
    assert response["ok"], response
    return pickle.loads(response["pickle"])


def error_of(value, **kwargs):
    response = resolve(value, **kwargs)
    assert response["ok"] is False, response
    assert response["error_type"] == "StepFailedException", response
    return response["message"]


APP_VARS = [
    {"name": "host", "value": "db.local", "default_value": "localhost"},
    {"name": "port", "value": None, "default_value": 5432},
    {"name": "limit", "value": 10},
    {"name": "count", "value": "2"},
    {"name": "items", "value": [1, 2]},
]


# ---------------------------------------------------------------- appvar
def test_appvar_run_params_then_value_then_default():
    assert value_of("${appvar.host}", app_variables=APP_VARS) == "db.local"
    assert value_of("${appvar.host}", app_variables=APP_VARS, run_params={"host": "override"}) == "override"
    assert value_of("${appvar.port}", app_variables=APP_VARS) == 5432


def test_appvar_whole_value_keeps_its_type_and_is_str_inside_text():
    assert value_of("${appvar.limit}", app_variables=APP_VARS) == 10
    assert value_of("${appvar.items}", app_variables=APP_VARS) == [1, 2]
    assert value_of("http://${appvar.host}:${appvar.port}/x", app_variables=APP_VARS) == "http://db.local:5432/x"
    assert value_of("items=${appvar.items}", app_variables=APP_VARS) == "items=[1, 2]"
    assert value_of(" ${appvar.limit}", app_variables=APP_VARS) == " 10"


def test_unknown_appvar_fails_naming_it():
    message = error_of("${appvar.nope}", app_variables=APP_VARS)
    assert "${appvar.nope}" in message
    assert message.startswith("parameter 'p':")
    assert "host" in message  # lists what exists


# ---------------------------------------------------------------- config
def test_config_variables():
    config = {"sl1_host": "10.2.0.1", "password": "pw", "retries": 3}
    assert value_of("${config.sl1_host}", config=config) == "10.2.0.1"
    assert value_of("${config.retries}", config=config) == 3
    assert value_of("https://${config.sl1_host}/api", config=config) == "https://10.2.0.1/api"


def test_unknown_config_variable_fails_naming_it():
    assert "${config.missing}" in error_of("${config.missing}", config={"a": 1})
    message = error_of("${config.missing}")
    assert "${config.missing}" in message and "no configuration" in message


def test_config_in_list_form_is_accepted():
    assert value_of("${config.a}", config=[{"name": "a", "value": "from list"}]) == "from list"


# ---------------------------------------------------------------- stepfunc
@pytest.mark.parametrize("prefix", ["stepfunc", "step_func"])
def test_stepfunc_with_literal_arguments(prefix):
    assert value_of("${%s.add_numbers 1 2}" % prefix) == 3


def test_stepfunc_argument_parsing():
    assert value_of("${stepfunc.describe 1 2.5 True None abc 'quoted text' [1, 2] {'k':1}}") == [
        "int", "float", "bool", "NoneType", "str", "str", "list", "dict"]
    assert value_of("${stepfunc.echo abc 'quoted text' [1, 2]}") == ["abc", "quoted text", [1, 2]]
    assert value_of("${stepfunc.echo it's fine}") == ["it's", "fine"]  # unbalanced quote: plain split
    assert value_of("${stepfunc.nothing}") == "called without arguments"
    assert value_of("${stepfunc.upper hello}") == "HELLO"


def test_stepfunc_arguments_are_substituted_first():
    assert value_of("${stepfunc.add_numbers ${appvar.limit} 5}", app_variables=APP_VARS) == 15
    # text values are parsed as literals after substitution
    assert value_of("${stepfunc.add_numbers ${appvar.count} 1}", app_variables=APP_VARS) == 3
    # non-text values are passed as they are
    assert value_of("${stepfunc.echo ${appvar.items}}", app_variables=APP_VARS) == [[1, 2]]
    # partly substituted argument
    assert value_of("${stepfunc.echo host-${appvar.host}}", app_variables=APP_VARS) == ["host-db.local"]
    # nested stepfunc inside an argument
    assert value_of("${stepfunc.add_numbers ${stepfunc.add_numbers 1 2} 10}") == 13
    # config inside
    assert value_of("${stepfunc.upper ${config.name}}", config={"name": "abc"}) == "ABC"


def test_stepfunc_result_inside_text():
    assert value_of("total: ${step_func.add_numbers 1 2} items") == "total: 3 items"


def test_stepfunc_unknown_method_fails_naming_it():
    message = error_of("${stepfunc.no_such_method 1}")
    assert "no_such_method" in message and "no method" in message
    assert "not_callable" in error_of("${stepfunc.not_callable}")


def test_stepfunc_errors_propagate():
    response = resolve("${stepfunc.add_numbers 1 abc}")
    assert response["ok"] is False
    assert response["error_type"] == "TypeError"


# ---------------------------------------------------------------- ${name}
def test_name_from_lookup_data():
    assert value_of("${device_id}", lookup={"device_id": 42}) == 42
    assert value_of("/api/device/${device_id}", lookup={"device_id": 42}) == "/api/device/42"


def test_name_from_joined_upstream_data():
    upstream = [up("A", {"region": "eu", "n": 1}), up("B", {"n": 2})]
    assert value_of("${region}-${n}", upstream=upstream) == "eu-2"  # merged dicts, later wins
    assert value_of("${n}", upstream=upstream) == 2


def test_lookup_data_comes_before_upstream_data():
    upstream = [up("A", {"n": "from upstream", "other": "up"})]
    assert value_of("${n}", lookup={"n": "from lookup"}, upstream=upstream) == "from lookup"
    assert value_of("${other}", lookup={}, upstream=upstream) == "up"  # get_parameter(name, {})


def test_dotted_names_walk_nested_data():
    lookup = {"device": {"ip": "10.0.0.9", "ifaces": [{"name": "eth0"}]}}
    assert value_of("${device.ip}", lookup=lookup) == "10.0.0.9"
    assert value_of("${device.ifaces.0.name}", lookup=lookup) == "eth0"
    assert value_of("${a.b}", lookup={"a.b": "exact key first"}) == "exact key first"


def test_unresolvable_name_fails_naming_it():
    message = error_of("${nowhere}")
    assert "${nowhere}" in message and message.startswith("parameter 'p':")
    # upstream data that is not a dict is not searched
    assert "${x}" in error_of("${x}", upstream=[up("A", [{"x": 1}])])
    # upstream data that cannot be joined is not searched either
    assert "${x}" in error_of("${x}", upstream=[up("A", {"x": 1}), up("B", [1])])


# ---------------------------------------------------------------- structure
def test_substitution_inside_lists_and_dicts():
    value = {
        "url": "https://${config.host}/api",
        "ids": ["${appvar.limit}", "plain", 5, None, True],
        "${appvar.host}_key": {"nested": ["${stepfunc.add_numbers 2 3}"]},
    }
    result = value_of(value, config={"host": "h"}, app_variables=APP_VARS)
    assert result == {
        "url": "https://h/api",
        "ids": [10, "plain", 5, None, True],
        "db.local_key": {"nested": [5]},
    }


def test_defaults_are_substituted_too():
    assert value_of(None, default="${appvar.host}", app_variables=APP_VARS) == "db.local"


def test_non_strings_and_plain_text_are_untouched():
    assert value_of(12) == 12
    assert value_of(True) is True
    assert value_of("no variables, just $ and {braces}") == "no variables, just $ and {braces}"
    assert value_of("unterminated ${appvar.host") == "unterminated ${appvar.host"


def test_substituted_values_are_not_substituted_again():
    variables = [{"name": "template", "value": "${appvar.other}"}]
    assert value_of("${appvar.template}", app_variables=variables) == "${appvar.other}"


def test_multiple_variables_of_every_kind_in_one_string():
    result = value_of("${appvar.host}|${config.c}|${stepfunc.add_numbers 1 1}|${k}",
                      app_variables=APP_VARS, config={"c": "C"}, lookup={"k": "K"})
    assert result == "db.local|C|2|K"


# ---------------------------------------------------------------- helpers directly
def test_find_variables_nests_braces():
    text = "a ${stepfunc.f ${appvar.x} {'k': 1}} b ${y}"
    assert [inner for _, _, inner in _substitution.find_variables(text)] == [
        "stepfunc.f ${appvar.x} {'k': 1}", "y"]


def test_split_arguments():
    split = _substitution.split_arguments
    assert split("f 1  2") == ["f", "1", "2"]
    assert split("f 'a b' [1, 2] (3, 4) ${x y}") == ["f", "'a b'", "[1, 2]", "(3, 4)", "${x y}"]
    assert split("f don't ${a b}") == ["f", "don't", "${a b}"]


def test_substitute_keeps_container_types():
    resolved = _substitution.substitute(("${a}", {"${a}"}), lambda inner: inner.upper())
    assert resolved == ("A", {"A"})
