"""self.logger: levels, formatting, records, log_level filtering, masking."""

import logging
import pickle
import subprocess
import sys
import time

from conftest import PY_DIR
from helpers import run, step_source
from ipaascore import ipaas_logger

LOGS = step_source(
    """
    class Logs(BaseStep):
        def execute(self):
            self.logger.debug("debug %d", 1)
            self.logger.info("info %s", "two")
            self.logger.flow("flow")
            self.logger.warning("warning")
            self.logger.error("error")
            self.logger.critical("critical")
            print("printed")
            print("printed to stderr", file=sys.stderr)

    import sys
    """
)


def test_every_level_produces_a_record(host):
    before = time.time()
    assert run(LOGS)["ok"]
    after = time.time()
    step_records = [(r.levelno, r.levelname, r.module, r.message) for r in host.records if r.module == "Logs"]
    assert step_records == [
        (10, "DEBUG", "Logs", "debug 1"),
        (20, "INFO", "Logs", "info two"),
        (25, "FLOW", "Logs", "flow"),
        (30, "WARNING", "Logs", "warning"),
        (40, "ERROR", "Logs", "error"),
        (50, "CRITICAL", "Logs", "critical"),
    ]
    for record in host.records:
        assert before - 1 <= record.created <= after + 1


def test_flow_level_is_registered():
    assert ipaas_logger.FLOW == 25
    assert logging.getLevelName(25) == "FLOW"
    assert logging.getLevelName("FLOW") == 25


def test_log_level_filters_records(host):
    assert run(LOGS, log_level=25)["ok"]
    assert [r.levelname for r in host.records] == ["FLOW", "WARNING", "ERROR", "CRITICAL", "ERROR"]
    assert host.records[-1].module == "stderr"  # printed (INFO) was dropped, stderr (ERROR) kept
    host.reset()
    assert run(LOGS, log_level=logging.ERROR)["ok"]
    assert [r.message for r in host.records] == ["error", "critical", "printed to stderr"]
    host.reset()
    assert run(LOGS, log_level="WARNING")["ok"]  # a level name works too
    assert [r.levelname for r in host.records][0] == "WARNING"
    host.reset()
    assert run(LOGS, log_level=10)["ok"]
    assert len(host.records) == 8


def test_threshold_is_reset_after_a_run():
    before = ipaas_logger.get_threshold()
    run(LOGS, log_level=50)
    assert ipaas_logger.get_threshold() == before


def test_exception_adds_the_traceback(host):
    source = step_source(
        """
        class Oops(BaseStep):
            def execute(self):
                try:
                    1 / 0
                except ZeroDivisionError:
                    self.logger.exception("division failed for %s", "x")
                self.logger.error("with exc_info", exc_info=True)
                self.logger.exception("no exception being handled")
                self.logger.error("given exception", exc_info=ValueError("v"))
        """
    )
    assert run(source)["ok"]
    first, second, third, fourth = host.records
    assert first.levelname == "ERROR"
    assert first.message.startswith("division failed for x\nTraceback (most recent call last):")
    assert "ZeroDivisionError: division by zero" in first.message
    assert "1 / 0" in first.message
    assert second.message == "with exc_info"  # nothing being handled any more
    assert third.message == "no exception being handled"
    assert fourth.message == "given exception\nValueError: v"


def test_formatting_like_the_logging_module(host):
    source = step_source(
        """
        class Fmt(BaseStep):
            def execute(self):
                self.logger.info("%(a)s and %(b)s", {"a": 1, "b": 2})
                self.logger.info("100% done")
                self.logger.info("bad %d", "x")
                self.logger.info({"not": "a string"})
                self.logger.log(25, "via log()")
                self.logger.warn("warn alias")
                self.logger.info("enabled: %s %s", self.logger.isEnabledFor(10), self.logger.isEnabledFor(30))
        """
    )
    assert run(source, log_level=20)["ok"]
    assert host.messages() == [
        "1 and 2",
        "100% done",
        "bad %d ('x',)",
        "{'not': 'a string'}",
        "via log()",
        "warn alias",
        "enabled: False True",
    ]


def test_module_is_the_running_class_name(host):
    source = step_source(
        """
        class Base(BaseStep):
            def execute(self):
                self.logger.info("from the parent's code")


        class Derived(Base):
            pass
        """
    )
    assert run(source)["ok"]
    assert [(r.module, r.message) for r in host.records] == [("Derived", "from the parent's code")]


def test_logger_can_be_replaced_by_the_step(host):
    source = step_source(
        """
        import logging

        class OwnLogger(BaseStep):
            def __init__(self):
                self.logger = logging.getLogger("own")

            def execute(self):
                self.logger.warning("through logging")
        """
    )
    assert run(source)["ok"]
    assert [(r.module, r.message) for r in host.records] == [("own", "through logging")]


def test_secret_config_values_are_masked(host):
    source = step_source(
        """
        class Leaky(BaseStep):
            def execute(self):
                password = self.get_parameter("password")
                self.logger.info("connecting as admin/%s", password)
                print("password is", password)
                raise ValueError("login failed with " + password)
        """
    )
    response = run(source, parameters={"password": "${config.pw}"},
                   config={"pw": "Tr0ub4dor", "host": "h"}, secret_config=["pw"])
    assert response["ok"] is False
    assert host.messages() == ["connecting as admin/******", "password is ******"]
    assert "Tr0ub4dor" not in response["message"] and "******" in response["message"]
    assert "Tr0ub4dor" not in response["traceback"]
    # secrets are forgotten after the run
    assert ipaas_logger.mask("Tr0ub4dor") == "Tr0ub4dor"


def test_records_go_to_stderr_without_a_host():
    code = (
        "import sys; sys.path.insert(0, %r)\n"
        "from ipaascore.ipaas_logger import StepLogger\n"
        "StepLogger('Standalone').flow('hello %%s', 'there')\n" % PY_DIR
    )
    result = subprocess.run([sys.executable, "-B", "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "FLOW Standalone: hello there\n"


def test_a_failing_host_does_not_fail_the_step(host, monkeypatch, capfd):
    def broken(*args):
        raise RuntimeError("pipe closed")
    monkeypatch.setattr(host, "log", broken)
    source = step_source(
        """
        class Resilient(BaseStep):
            def execute(self):
                self.logger.info("still fine")
                self.save_data_for_next_step("done")
        """
    )
    response = run(source)
    assert response["ok"] is True
    assert "log delivery failed" in capfd.readouterr().err


def test_a_saved_result_holds_secrets_masked_and_other_data_as_it_is():
    source = step_source(
        """
        import collections
        Pair = collections.namedtuple("Pair", "user password")

        class SavesToken(BaseStep):
            def execute(self):
                pw = self.get_parameter("password")
                self.save_data_for_next_step({
                    "header": "Bearer " + pw, pw: "as a key", "nested": [(pw,), {pw}],
                    "pair": Pair("admin", pw), "raw": pw.encode(), "count": 3, "other": "plain"})
        """
    )
    response = run(source, parameters={"password": "${config.pw}"},
                   config={"pw": "Tr0ub4dor"}, secret_config=["pw"])
    assert response["ok"], response
    saved = pickle.loads(response["pickle"])
    assert saved["header"] == "Bearer ******"
    assert saved["******"] == "as a key"
    assert saved["nested"] == [("******",), {"******"}]
    assert tuple(saved["pair"]) == ("admin", "******") and saved["pair"].password == "******"
    assert saved["raw"] == b"******"
    assert (saved["count"], saved["other"]) == (3, "plain")
    assert "Tr0ub4dor" not in response["json"]


def test_data_without_secrets_is_passed_on_as_the_same_object():
    ipaas_logger.set_secrets(["Tr0ub4dor"])
    try:
        data = {"a": [1, "x", (2, "y")], "b": {"z"}}
        assert ipaas_logger.mask_value(data) is data
    finally:
        ipaas_logger.clear_secrets()
