"""_runner.validate: metadata of good steps, one-line errors with line numbers."""

import json
import sys

from helpers import step_source
from ipaascore import _runner

COUNT_RECORDS = step_source(
    """
    class CountRecords(BaseStep):
        \"\"\"Counts joined upstream records.\"\"\"

        def __init__(self):
            self.friendly_name = "Count Records"
            self.description = "Counts joined upstream records"
            self.version = "1.0.0"
            self.new_step_parameter(name="offset", description="added to the count",
                                    sample_value="${stepfunc.double 2}", default_value=0, required=False)
            self.new_step_parameter(name="enable", description="run or not", default_value=True,
                                    required=True, param_type=parameter_types.BoolParameterToggle())

        def double(self, n):
            return n * 2

        def execute(self):
            pass
    """
)


def test_metadata_of_a_valid_step():
    result = _runner.validate("CountRecords", COUNT_RECORDS)
    assert result == {
        "ok": True,
        "friendly_name": "Count Records",
        "description": "Counts joined upstream records",
        "version": "1.0.0",
        "parameters": [
            {"name": "offset", "description": "added to the count",
             "sample_value": "${stepfunc.double 2}", "default_value": 0,
             "required": False, "type": None},
            {"name": "enable", "description": "run or not", "sample_value": "",
             "default_value": True, "required": True, "type": "BoolParameterToggle"},
        ],
    }
    json.dumps(result)


def test_init_that_is_pass_and_no_metadata():
    source = step_source(
        """
        class EchoGreeting(BaseStep):
            def __init__(self):
                pass

            def execute(self):
                self.save_data_for_next_step(self.join_previous_step_data())
        """
    )
    result = _runner.validate("EchoGreeting", source)
    assert result["ok"], result
    assert result["friendly_name"] == "EchoGreeting"  # defaults to the class name
    assert result["description"] == ""
    assert result["version"] == ""
    assert result["parameters"] == []


def test_init_without_super_declares_parameters():
    source = step_source(
        """
        class NoSuper(BaseStep):
            def __init__(self):
                self.friendly_name = "No super"
                self.new_step_parameter(name="a", required=True)
                self.new_step_parameter(name="b", default_value=[1, 2])

            def execute(self):
                pass
        """
    )
    result = _runner.validate("NoSuper", source)
    assert result["ok"], result
    assert [p["name"] for p in result["parameters"]] == ["a", "b"]
    assert result["parameters"][0]["required"] is True
    assert result["parameters"][1]["default_value"] == [1, 2]


def test_step_without_init_and_with_super_init():
    plain = step_source(
        """
        class Plain(BaseStep):
            def execute(self):
                pass
        """
    )
    assert _runner.validate("Plain", plain)["ok"]
    with_super = step_source(
        """
        class WithSuper(BaseStep):
            def __init__(self):
                super(WithSuper, self).__init__()
                self.version = "2"
                self.new_step_parameter(name="x")

            def execute(self):
                pass
        """
    )
    result = _runner.validate("WithSuper", with_super)
    assert result["ok"] and result["version"] == "2"
    assert result["parameters"][0]["name"] == "x"


def test_non_json_values_are_made_json():
    source = step_source(
        """
        import datetime

        class Odd(BaseStep):
            def __init__(self):
                self.new_step_parameter(name="s", default_value={1, 2})
                self.new_step_parameter(name="t", default_value=(1, "a"), sample_value=float("nan"))
                self.new_step_parameter(name="d", default_value=datetime.date(2020, 1, 2))
                self.new_step_parameter(name="k", default_value={1: "one"}, required="yes")
                self.new_step_parameter(name="c", param_type=parameter_types.NumberParameter)

            def execute(self):
                pass
        """
    )
    result = _runner.validate("Odd", source)
    assert result["ok"], result
    params = {p["name"]: p for p in result["parameters"]}
    assert params["s"]["default_value"] == "{1, 2}"
    assert params["t"]["default_value"] == [1, "a"]
    assert params["t"]["sample_value"] == "nan"
    assert params["d"]["default_value"] == "datetime.date(2020, 1, 2)"
    assert params["k"]["default_value"] == {"1": "one"}
    assert params["k"]["required"] is True
    assert params["c"]["type"] == "NumberParameter"  # declared without parentheses
    json.dumps(result, allow_nan=False)


def test_syntax_error_reports_its_line():
    source = "from ipaascore.BaseStep import BaseStep\n\nclass Bad(BaseStep)\n    pass\n"
    result = _runner.validate("Bad", source)
    assert result["ok"] is False
    assert result["line"] == 3
    assert "SyntaxError" in result["error"] and "line 3" in result["error"]
    assert "\n" not in result["error"]
    assert "SyntaxError" in result["traceback"]


def test_indentation_error_reports_its_line():
    source = "from ipaascore.BaseStep import BaseStep\nclass Bad(BaseStep):\n    def execute(self):\n    pass\n"
    result = _runner.validate("Bad", source)
    assert result["ok"] is False
    assert result["line"] == 4
    assert "IndentationError" in result["error"]


def test_missing_class():
    source = step_source(
        """
        class Other(BaseStep):
            def execute(self):
                pass
        """
    )
    result = _runner.validate("Wanted", source)
    assert result["ok"] is False
    assert result["error"].startswith(
        "the source defines no class named Wanted; the class name must equal the step name")
    assert "Other" in result["error"]
    assert result["line"] is None


def test_name_that_is_not_a_class():
    result = _runner.validate("Thing", "Thing = 3\n")
    assert result["ok"] is False
    assert "not a class" in result["error"]


def test_class_that_is_not_a_basestep():
    source = "import os\n\nclass NotAStep(object):\n    def execute(self):\n        pass\n"
    result = _runner.validate("NotAStep", source)
    assert result["ok"] is False
    assert "does not subclass ipaascore.BaseStep.BaseStep" in result["error"]
    assert result["line"] == 3


def test_exception_in_init_reports_the_failing_line():
    source = step_source(
        """
        class Boom(BaseStep):
            def __init__(self):
                self.friendly_name = "Boom"
                self.helper()

            def helper(self):
                x = {}
                return x["missing"]

            def execute(self):
                pass
        """
    )
    result = _runner.validate("Boom", source)
    assert result["ok"] is False
    lines = source.splitlines()
    assert lines[result["line"] - 1].strip() == 'return x["missing"]'
    assert result["error"].startswith("Boom.__init__ raised KeyError")
    assert "(line %d)" % result["line"] in result["error"]
    assert "<step Boom>" in result["traceback"]
    assert 'return x["missing"]' in result["traceback"]  # source lines are shown


def test_exception_at_module_level():
    source = step_source(
        """
        LIMIT = 10
        RATIO = LIMIT / 0

        class Div(BaseStep):
            def execute(self):
                pass
        """
    )
    result = _runner.validate("Div", source)
    assert result["ok"] is False
    assert result["line"] == 5
    assert "ZeroDivisionError" in result["error"]


def test_missing_import_is_explained():
    source = step_source(
        """
        from test_syncpack_that_is_not_installed.util.text import shout

        class MakeGreeting(BaseStep):
            def execute(self):
                pass
        """
    )
    result = _runner.validate("MakeGreeting", source)
    assert result["ok"] is False
    assert result["line"] == 4
    assert "ModuleNotFoundError" in result["error"]
    assert "test_syncpack_that_is_not_installed" in result["error"]


def test_sys_exit_in_init_is_caught():
    source = step_source(
        """
        import sys

        class Quitter(BaseStep):
            def __init__(self):
                sys.exit(2)
        """
    )
    result = _runner.validate("Quitter", source)
    assert result["ok"] is False
    assert "sys.exit(2)" in result["error"]


def test_validate_leaves_no_module_behind_and_captures_prints(host, capsys):
    source = step_source(
        """
        print("loading")

        class Tidy(BaseStep):
            def __init__(self):
                print("init")

            def execute(self):
                pass
        """
    )
    assert _runner.validate("Tidy", source)["ok"]
    assert "Tidy" not in sys.modules
    assert host.messages(module="stdout") == ["loading", "init"]
    assert capsys.readouterr().out == ""


def test_validate_of_a_syncpack_module(tmp_path, monkeypatch):
    pack = tmp_path / "demo_pack"
    (pack / "steps").mkdir(parents=True)
    (pack / "util").mkdir()
    (pack / "__init__.py").write_text("")
    (pack / "steps" / "__init__.py").write_text("")
    (pack / "util" / "__init__.py").write_text("")
    (pack / "util" / "text.py").write_text("def shout(s):\n    return s.upper()\n")
    (pack / "steps" / "Shout.py").write_text(step_source(
        """
        from demo_pack.util.text import shout

        class Shout(BaseStep):
            def __init__(self):
                self.friendly_name = shout("shout")

            def execute(self):
                self.save_data_for_next_step(shout("hi"))
        """
    ))
    monkeypatch.syspath_prepend(str(tmp_path))
    result = _runner.validate("Shout", None, module="demo_pack.steps.Shout")
    assert result["ok"], result
    assert result["friendly_name"] == "SHOUT"
    source = (pack / "steps" / "Shout.py").read_text()
    assert _runner.validate("Shout", source)["ok"]  # plain source importing the pack
