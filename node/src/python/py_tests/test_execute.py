"""_runner.execute: results, failures of every kind, output capture, caching."""

import json
import pickle
import subprocess
import sys

import pytest

from helpers import make_request, run, run_ok, step_source, up
from ipaascore import _runner
from conftest import PY_DIR


def test_saved_data_is_returned_as_pickle_and_json():
    source = step_source(
        """
        class Save(BaseStep):
            def execute(self):
                self.save_data_for_next_step({"a": [1, 2], "b": "x"})
        """
    )
    response = run(source)
    assert response["ok"] is True
    assert pickle.loads(response["pickle"]) == {"a": [1, 2], "b": "x"}
    assert json.loads(response["json"]) == {"a": [1, 2], "b": "x"}


def test_nothing_saved():
    source = step_source(
        """
        class Quiet(BaseStep):
            def execute(self):
                pass
        """
    )
    assert run(source) == {"ok": True, "pickle": None, "json": "null"}


def test_saving_none_is_saving_something():
    source = step_source(
        """
        class SaveNone(BaseStep):
            def execute(self):
                self.save_data_for_next_step(None)
        """
    )
    response = run(source)
    assert response["pickle"] is not None
    assert pickle.loads(response["pickle"]) is None


def test_later_save_replaces_earlier_and_changes_after_save_are_kept():
    source = step_source(
        """
        class Twice(BaseStep):
            def execute(self):
                self.save_data_for_next_step(["first"])
                data = {"n": 1}
                self.save_data_for_next_step(data)
                data["n"] = 2
        """
    )
    assert run_ok(source) == {"n": 2}


def test_get_current_saved_data_in_an_extending_step():
    source = step_source(
        """
        class Parent(BaseStep):
            def __init__(self):
                self.friendly_name = "Parent"
                self.new_step_parameter(name="base", default_value=1)

            def execute(self):
                self.save_data_for_next_step({"base": self.get_parameter("base")})


        class Child(Parent):
            def __init__(self):
                super(Child, self).__init__()
                self.new_step_parameter(name="extra", default_value=2)

            def execute(self):
                before = self.get_current_saved_data()
                super(Child, self).execute()
                data = self.get_current_saved_data()
                data["extra"] = self.get_parameter("extra")
                data["before"] = before
                self.save_data_for_next_step(data)
        """
    )
    assert run_ok(source, parameters={"base": 10}) == {"base": 10, "extra": 2, "before": None}


@pytest.mark.parametrize("signature,call", [
    ("execute(self)", "self"),
    ("execute(self, additional_data=None)", "additional_data"),
    ("execute(self, additional_data)", "additional_data"),
])
def test_execute_signatures(signature, call):
    source = step_source(
        """
        class Sig(BaseStep):
            def %s:
                self.save_data_for_next_step(repr(%s) if %r != "self" else "no args")
        """ % (signature, call, call)
    )
    expected = "no args" if call == "self" else "None"
    assert run_ok(source) == expected


def test_names_and_ids():
    source = step_source(
        """
        class Who(BaseStep):
            def execute(self):
                self.save_data_for_next_step([self.get_name(), self.application_name, self.application_id])
        """
    )
    assert run_ok(source, step_name="Fetch Devices", application_name="sync",
                  application_id="isapp-1") == ["Fetch Devices", "sync", "isapp-1"]
    # a step run alone: its name is the class name, no application
    assert run_ok(source, step_name=None) == ["Who", None, None]


def test_exception_in_execute():
    source = step_source(
        """
        class Fails(BaseStep):
            def execute(self):
                values = [1, 2]
                return values[5]
        """
    )
    response = run(source)
    assert response["ok"] is False
    assert response["error_type"] == "IndexError"
    assert response["message"] == "list index out of range"
    assert 'File "<step Fails>", line 7, in execute' in response["traceback"]
    assert "return values[5]" in response["traceback"]
    assert "_runner" not in response["traceback"]


def test_step_failed_exception():
    source = step_source(
        """
        class Refuses(BaseStep):
            def execute(self):
                raise ipaas_exceptions.StepFailedException("the API said no")
        """
    )
    response = run(source)
    assert response["ok"] is False
    assert response["error_type"] == "StepFailedException"
    assert response["message"] == "the API said no"


def test_exception_without_message_uses_its_type():
    source = step_source(
        """
        class Empty(BaseStep):
            def execute(self):
                raise RuntimeError()
        """
    )
    response = run(source)
    assert response["message"] == "RuntimeError"


@pytest.mark.parametrize("call,message", [
    ("sys.exit(3)", "the step called sys.exit(3)"),
    ("sys.exit()", "the step called sys.exit()"),
    ("sys.exit('bye')", "the step called sys.exit('bye')"),
    ("sys.exit(0)", "the step called sys.exit(0)"),
])
def test_sys_exit_is_a_failure(call, message):
    source = step_source(
        """
        import sys

        class Exits(BaseStep):
            def execute(self):
                self.save_data_for_next_step("partial")
                %s
        """ % call
    )
    response = run(source)
    assert response["ok"] is False
    assert response["error_type"] == "SystemExit"
    assert response["message"] == message
    assert "<step Exits>" in response["traceback"]


def test_keyboard_interrupt_is_a_failure():
    source = step_source(
        """
        class Interrupted(BaseStep):
            def execute(self):
                raise KeyboardInterrupt()
        """
    )
    response = run(source)
    assert response["ok"] is False
    assert response["error_type"] == "KeyboardInterrupt"
    assert "interrupted" in response["message"]


@pytest.mark.parametrize("expression,type_name,detail", [
    ("lambda x: x", "function", "lambda"),
    ("{'records': (i for i in range(3))}", "dict", "generator"),
    ("threading.Lock()", "lock", "lock"),
])
def test_unpicklable_saved_data(expression, type_name, detail):
    source = step_source(
        """
        import threading

        class Unpicklable(BaseStep):
            def execute(self):
                self.save_data_for_next_step(%s)
        """ % expression
    )
    response = run(source)
    assert response["ok"] is False
    message = response["message"]
    assert "cannot be pickled" in message
    assert "it is a %s" % type_name in message
    assert detail in message
    assert "save_data_for_next_step" in message
    assert "<step Unpicklable> line 8" in message


def test_objects_of_classes_defined_in_the_step_pickle():
    source = step_source(
        """
        class Device(object):
            def __init__(self, name):
                self.name = name

            def __repr__(self):
                return "Device(%r)" % self.name


        class MakeDevices(BaseStep):
            def execute(self):
                self.save_data_for_next_step([Device("a"), Device("b")])
        """
    )
    response = run(source)
    assert response["ok"], response
    devices = pickle.loads(response["pickle"])
    assert [d.name for d in devices] == ["a", "b"]
    assert json.loads(response["json"]) == ["Device('a')", "Device('b')"]


def test_json_rendering_of_odd_data():
    source = step_source(
        """
        import datetime

        class Odd(BaseStep):
            def execute(self):
                self.save_data_for_next_step({
                    "when": datetime.date(2021, 5, 6),
                    "tuple": (1, 2),
                    "set": {3},
                    1: "int key",
                    ("a", "b"): "tuple key",
                    "nan": float("nan"),
                    "bytes": b"xy",
                })
        """
    )
    response = run(source)
    assert response["ok"], response
    shown = json.loads(response["json"])
    assert shown == {
        "when": "datetime.date(2021, 5, 6)",
        "tuple": [1, 2],
        "set": "{3}",
        "1": "int key",
        "('a', 'b')": "tuple key",
        "nan": "nan",
        "bytes": "b'xy'",
    }


def test_print_and_std_streams_become_log_records(host, capsys):
    source = step_source(
        """
        import sys

        class Talks(BaseStep):
            def execute(self):
                print("hello", 42)
                print("two\\nlines")
                sys.stdout.write("part ")
                sys.stdout.write("one\\n")
                sys.stderr.write("problem\\n")
                print("to stderr", file=sys.stderr)
                sys.stdout.buffer.write(b"raw bytes\\n")
                sys.stdout.write("no newline at the end")
        """
    )
    original = (sys.stdout, sys.stderr)
    assert run(source)["ok"]
    assert (sys.stdout, sys.stderr) == original
    out = [(r.levelno, r.levelname, r.message) for r in host.records if r.module == "stdout"]
    err = [(r.levelno, r.levelname, r.message) for r in host.records if r.module == "stderr"]
    assert out == [(20, "INFO", "hello 42"), (20, "INFO", "two"), (20, "INFO", "lines"),
                   (20, "INFO", "part one"), (20, "INFO", "raw bytes"),
                   (20, "INFO", "no newline at the end")]
    assert err == [(40, "ERROR", "problem"), (40, "ERROR", "to stderr")]
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_streams_are_restored_after_a_failure():
    source = step_source(
        """
        import sys

        class Breaks(BaseStep):
            def execute(self):
                sys.stdout = None
                raise ValueError("x")
        """
    )
    original = (sys.stdout, sys.stderr)
    assert run(source)["ok"] is False
    assert (sys.stdout, sys.stderr) == original


def test_logging_module_records_are_forwarded(host):
    source = step_source(
        """
        import logging

        log = logging.getLogger("some.library")
        log.setLevel(logging.DEBUG)

        class UsesLogging(BaseStep):
            def execute(self):
                log.warning("careful: %s", "x")
                log.debug("details")
        """
    )
    assert run(source, log_level=30)["ok"]
    assert [(r.module, r.levelname, r.message) for r in host.records] == [
        ("some.library", "WARNING", "careful: x")]


def test_source_is_compiled_once_per_hash(host):
    source = step_source(
        """
        print("module loaded")
        RUNS = []

        class Counter(BaseStep):
            def execute(self):
                RUNS.append(1)
                self.save_data_for_next_step(len(RUNS))
        """
    )
    assert run_ok(source) == 1
    assert run_ok(source) == 2  # same module, state kept between runs
    assert host.messages(module="stdout") == ["module loaded"]
    changed = source + "\n# changed\n"
    assert run_ok(changed) == 1  # new hash: compiled again
    assert host.messages(module="stdout") == ["module loaded", "module loaded"]


def test_each_run_gets_a_fresh_instance():
    source = step_source(
        """
        class Fresh(BaseStep):
            def __init__(self):
                self.count = 0

            def execute(self):
                self.count += 1
                self.save_data_for_next_step(self.count)
        """
    )
    assert run_ok(source) == 1
    assert run_ok(source) == 1


def test_missing_required_parameter_fails_before_execute(host):
    source = step_source(
        """
        class NeedsHost(BaseStep):
            def __init__(self):
                self.new_step_parameter(name="host", required=True)
                self.new_step_parameter(name="port", required=True)

            def execute(self):
                print("should not run")
        """
    )
    response = run(source)
    assert response["ok"] is False
    assert response["error_type"] == "MissingRequiredStepParameter"
    assert "host" in response["message"] and "port" in response["message"]
    assert host.records == []


def test_syntax_error_in_execute():
    response = run("class Broken(:\n    pass\n", class_name="Broken")
    assert response["ok"] is False
    assert response["error_type"] == "SyntaxError"


def test_class_not_a_step_in_execute():
    response = run("class Plain(object):\n    pass\n")
    assert response["ok"] is False
    assert "does not subclass" in response["message"]


def test_exception_in_init_during_execute():
    source = step_source(
        """
        class BadInit(BaseStep):
            def __init__(self):
                raise OSError("cannot read settings")
        """
    )
    response = run(source)
    assert response["ok"] is False
    assert response["error_type"] == "OSError"
    assert "line 6, in __init__" in response["traceback"]


def test_invalid_requests():
    response = _runner.execute({"source": "x = 1"})
    assert response["ok"] is False
    assert "class_name" in response["message"]
    response = _runner.execute({"class_name": "X"})
    assert response["ok"] is False
    assert "source" in response["message"]
    response = _runner.execute({"class_name": "X", "source": "", "upstream": 5})
    assert response["ok"] is False
    assert response["error_type"] == "InvalidRequest"


def test_request_without_source_hash_still_works():
    source = step_source(
        """
        class NoHash(BaseStep):
            def execute(self):
                self.save_data_for_next_step("ok")
        """
    )
    request = make_request(source)
    del request["source_hash"]
    response = _runner.execute(request)
    assert pickle.loads(response["pickle"]) == "ok"


def test_execute_by_module_name(tmp_path, monkeypatch):
    pack = tmp_path / "greet_pack"
    (pack / "steps").mkdir(parents=True)
    (pack / "__init__.py").write_text("")
    (pack / "steps" / "__init__.py").write_text("")
    (pack / "steps" / "Greet.py").write_text(step_source(
        """
        class Greet(BaseStep):
            def __init__(self):
                self.new_step_parameter(name="who", default_value="world")

            def execute(self):
                self.save_data_for_next_step("hello " + self.get_parameter("who"))
        """
    ))
    monkeypatch.syspath_prepend(str(tmp_path))
    request = make_request("", class_name="Greet", module="greet_pack.steps.Greet",
                           parameters={"who": "pack"})
    response = _runner.execute(request)
    assert response["ok"], response
    assert pickle.loads(response["pickle"]) == "hello pack"


def test_example_steps_of_the_design():
    """The shapes of DESIGN's example steps: template -> count, syncpack echo."""
    template = step_source(
        """
        class stepTemplate(BaseStep):
            def __init__(self):
                self.friendly_name = "Step Template"
                self.new_step_parameter(name="greeting", description="what to say",
                                        sample_value="hello", default_value="hello", required=False)

            def execute(self):
                greeting = self.get_parameter("greeting")
                if not greeting:
                    raise ipaas_exceptions.StepFailedException("greeting must not be empty")
                self.logger.info("saying %s" % greeting)
                self.save_data_for_next_step({"said": greeting})
        """
    )
    said = run_ok(template, step_name="Say Hello", parameters={"greeting": "${appvar.exampleVariable}"},
                  app_variables=[{"name": "exampleVariable", "value": "exampleValue",
                                  "default_value": "DefaultValue", "required": True}])
    assert said == {"said": "exampleValue"}
    empty = run(template, parameters={"greeting": ""})
    assert empty["ok"] is False and empty["message"] == "greeting must not be empty"

    count = step_source(
        """
        class CountRecords(BaseStep):
            def __init__(self):
                self.new_step_parameter(name="offset", description="added to the count",
                                        sample_value="${stepfunc.double 2}", default_value=0, required=False)

            def double(self, n):
                return n * 2

            def execute(self):
                records = self.join_previous_step_data()
                total = len(records) + int(self.get_parameter("offset"))
                self.logger.flow("counted %d" % total)
                self.save_data_for_next_step({"count": total})
        """
    )
    assert run_ok(count, parameters={"offset": "${stepfunc.double 2}"},
                  upstream=[up("Say Hello", said)]) == {"count": 5}

    echo = step_source(
        """
        class EchoGreeting(BaseStep):
            def __init__(self):
                pass

            def execute(self):
                data = self.join_previous_step_data()
                self.logger.info("greeting: %s" % data["greeting"])
                self.save_data_for_next_step(data)
        """
    )
    assert run_ok(echo, upstream=[up("Make", {"greeting": "HELLO WORLD"})]) == {"greeting": "HELLO WORLD"}


def test_step_classes_work_outside_a_runner():
    """A step instantiated directly (no context) still works: defaults apply."""
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "from ipaascore.BaseStep import BaseStep\n"
        "import ipaascommon.content_manger, ipaascommon.ipaas_manager, ipaascore.parameter_types\n"
        "class S(BaseStep):\n"
        "    def __init__(self):\n"
        "        self.new_step_parameter(name='p', default_value='${appvar.v}')\n"
        "        self.new_step_parameter(name='q', default_value=5)\n"
        "    def execute(self):\n"
        "        self.logger.warning('outside %%s', 'runner')\n"
        "        self.save_data_for_next_step(self.get_parameter('q'))\n"
        "s = S()\n"
        "s.execute()\n"
        "assert s.get_current_saved_data() == 5\n"
        "assert s.get_name() == 'S'\n"
        "assert s.join_previous_step_data() is None\n"
        "assert '_ishost' not in sys.modules\n"
        "print('fine')\n" % PY_DIR
    )
    result = subprocess.run([sys.executable, "-B", "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "fine"
    assert "WARNING S: outside runner" in result.stderr


def test_a_failed_step_keeps_what_it_saved_before_failing():
    source = step_source("""
        class SavesThenFails(BaseStep):
            def execute(self):
                self.save_data_for_next_step({"http_code": 404, "body": "no such device"})
                raise ValueError("the device is gone")
    """)
    response = run(source)
    assert not response["ok"]
    assert "the device is gone" in response["message"]
    assert pickle.loads(response["pickle"]) == {"http_code": 404, "body": "no such device"}
    assert json.loads(response["json"]) == {"http_code": 404, "body": "no such device"}


def test_a_step_that_fails_before_saving_adds_no_data():
    source = step_source("""
        class JustFails(BaseStep):
            def execute(self):
                raise ValueError("nothing saved")
    """)
    response = run(source)
    assert not response["ok"]
    assert "pickle" not in response and "json" not in response
