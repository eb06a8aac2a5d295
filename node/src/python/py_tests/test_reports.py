"""ipaascommon.report_manager and the reports ``_runner.execute`` returns."""

import datetime
import json
import re
import textwrap

import pytest

from helpers import run, step_source
from ipaascommon import report_manager
from ipaascommon.report_manager import ParentReport, StandardReport
from ipaascore import ipaas_logger

REPORT_HEADER = "from ipaascommon.report_manager import StandardReport, ParentReport\n"


def report_step(body):
    return step_source(REPORT_HEADER + textwrap.dedent(body).lstrip("\n"))


def reports_of(response):
    text = response["reports"]
    assert isinstance(text, str)
    return json.loads(text)


# ---------------------------------------------------------------- the objects
def test_a_report_has_its_attributes_and_a_stable_unique_id():
    report = StandardReport("Devices", "My App", "Inventory", True)
    other = StandardReport("Devices")
    assert (report.name, report.app_name, report.section, report.flag) == ("Devices", "My App", "Inventory", True)
    assert (other.app_name, other.section, other.flag) == (None, None, None)
    assert re.fullmatch(r"report-[0-9a-f]{32}", report.report_id)
    assert report.report_id == report.report_id
    assert report.report_id != other.report_id
    assert report.columns == {} and report.rows == [] and report.sub_reports == []
    assert report.to_dict()["report_id"] == report.report_id


def test_columns_are_lists_of_values_and_rows_are_read_across_them():
    report = StandardReport("r")
    assert report.add_column("Name", column_data=["a", "b"]) is report
    report.add_column("State", column_data=("up", "down", "unknown"))
    report.add_column("Empty")
    report.add_column("Late", column_data=iter([None, "x"]))
    assert report.columns == {"Name": ["a", "b"], "State": ["up", "down", "unknown"],
                              "Empty": [], "Late": [None, "x"]}
    assert list(report.columns) == ["Name", "State", "Empty", "Late"]
    assert report.rows == [
        {"Name": "a", "State": "up", "Late": None},
        {"Name": "b", "State": "down", "Late": "x"},
        {"State": "unknown"},
    ]
    assert report.sub_reports == []


def test_declaring_a_column_again_appends_its_data():
    report = StandardReport("r")
    report.add_column("Name", column_data=["a"])
    report.add_column("Other")
    assert report.add_column("Name") is report  # no error, nothing added
    report.add_column("Name", column_data=["b", "c"])
    assert report.columns == {"Name": ["a", "b", "c"], "Other": []}
    assert list(report.columns) == ["Name", "Other"]  # the order of first declaration


def test_titles_are_strings_and_cannot_be_none():
    report = StandardReport("r")
    report.add_column(1, column_data=["one"])
    report.add_row("1", "text one")  # JSON shows both as "1": the same column
    report.add_row(2.5, True)
    assert report.columns == {"1": ["one", "text one"], "2.5": [True]}
    with pytest.raises(ValueError):
        report.add_column(None)
    with pytest.raises(ValueError):
        report.add_row(None, 1)
    with pytest.raises(ValueError):
        report.add_column(None, data_key="section")
    assert report.sub_reports == []


@pytest.mark.parametrize("column_data", ["abc", b"abc", bytearray(b"abc"), {"a": 1}, 42])
@pytest.mark.parametrize("data_key", [None, "section"])
def test_column_data_must_be_a_collection_of_values(column_data, data_key):
    report = StandardReport("r")
    with pytest.raises(TypeError) as info:
        report.add_column("A", data_key, column_data)
    assert "column_data" in str(info.value)
    assert report.columns == {} and report.sub_reports == []


def test_add_row_appends_one_value_to_a_column():
    report = StandardReport("r")
    report.add_column("Device", column_data=["a"])
    assert report.add_row("Device", "b") is report
    report.add_row("State", "up")  # a new column
    report.add_row("Raw", {"kept": "whole"})  # a dict is one value
    report.add_row("Raw", [1, 2])
    report.add_row("State", None)
    assert report.columns == {"Device": ["a", "b"], "State": ["up", None], "Raw": [{"kept": "whole"}, [1, 2]]}
    assert report.rows == [
        {"Device": "a", "State": "up", "Raw": {"kept": "whole"}},
        {"Device": "b", "State": None, "Raw": [1, 2]},
    ]


def test_a_data_key_names_a_sub_report_created_on_first_use():
    report = StandardReport("Devices", "App", "Inventory", False)
    report.add_column("Top", column_data=[0])
    assert report.add_column("Name", "New", ["a"]) is report
    [new] = report.sub_reports
    assert isinstance(new, StandardReport)
    assert (new.name, new.app_name, new.section, new.flag) == ("New", "App", "Inventory", False)
    assert report.add_row("Name", "b", "New") is report
    report.add_row("Why", "added", data_key="New")
    report.add_row("Name", "c", data_key="Removed")
    assert [sub.name for sub in report.sub_reports] == ["New", "Removed"]
    assert report.sub_reports[0] is new
    assert new.columns == {"Name": ["a", "b"], "Why": ["added"]}
    assert report.sub_reports[1].columns == {"Name": ["c"]}
    assert report.columns == {"Top": [0]}  # the report's own columns are untouched
    # a data key is its own name space, even when it equals a title
    report.add_column("Top", "Top", [1])
    assert report.columns == {"Top": [0]}
    assert report.sub_reports[2].name == "Top" and report.sub_reports[2].columns == {"Top": [1]}


def test_real_pack_pattern_one_data_key_with_two_titled_columns():
    # StandardReport(name, app, "tmp section", True), then two add_column
    # calls with different titles and the same data_key, each with its data.
    report = StandardReport("Sync result", "My App", "tmp section", True)
    report.add_column("Device", "Created devices", ["dev-1", "dev-2", "dev-3"])
    report.add_column("IP address", "Created devices", ["10.0.0.1", "10.0.0.2"])
    assert report.columns == {}
    [sub] = report.sub_reports
    data = report.to_dict()
    assert data == {
        "report_id": report.report_id,
        "name": "Sync result", "app_name": "My App", "section": "tmp section", "flag": True,
        "columns": [], "rows": [],
        "sub_reports": [{
            "report_id": sub.report_id,
            "name": "Created devices", "app_name": "My App", "section": "tmp section", "flag": True,
            "columns": [{"title": "Device", "data_key": "Device"},
                        {"title": "IP address", "data_key": "IP address"}],
            "rows": [
                {"title": None, "cells": {"Device": "dev-1", "IP address": "10.0.0.1"}},
                {"title": None, "cells": {"Device": "dev-2", "IP address": "10.0.0.2"}},
                {"title": None, "cells": {"Device": "dev-3"}},
            ],
            "sub_reports": [],
        }],
    }
    json.dumps(data, allow_nan=False)


def test_real_pack_pattern_parent_report_declares_and_fills_per_item():
    class Step:
        def get_name(self):
            return "Compare Devices"

    report = ParentReport(Step())
    for name, status in [("a", "New"), ("b", "Removed"), ("c", "New")]:
        # the columns are declared again for every device
        report.add_column("Device", status)
        report.add_column("Status", status)
        report.add_row("Device", name, status)
        report.add_row("Status", status.lower(), status)
    assert report.columns == {}
    assert [sub.name for sub in report.sub_reports] == ["New", "Removed"]
    new, removed = report.sub_reports
    assert new.rows == [{"Device": "a", "Status": "new"}, {"Device": "c", "Status": "new"}]
    assert removed.rows == [{"Device": "b", "Status": "removed"}]
    assert (new.app_name, new.section, new.flag) == (None, None, None)
    assert report.to_dict()["sub_reports"][0]["rows"] == [
        {"title": None, "cells": {"Device": "a", "Status": "new"}},
        {"title": None, "cells": {"Device": "c", "Status": "new"}},
    ]


def test_to_dict():
    report = StandardReport("Devices", "App", "Section", False)
    report.add_column("Name", column_data=["a"])
    report.add_row("Name", "b")
    report.add_row("Size", 3)
    sub = report.add_sub_report(StandardReport("Details"))
    report.add_row("Key", "v", "Keyed")
    keyed = report.sub_reports[1]
    assert report.to_dict() == {
        "report_id": report.report_id,
        "name": "Devices",
        "app_name": "App",
        "section": "Section",
        "flag": False,
        "columns": [{"title": "Name", "data_key": "Name"}, {"title": "Size", "data_key": "Size"}],
        "rows": [{"title": None, "cells": {"Name": "a", "Size": 3}},
                 {"title": None, "cells": {"Name": "b"}}],
        "sub_reports": [{
            "report_id": sub.report_id, "name": "Details", "app_name": None, "section": None,
            "flag": None, "columns": [], "rows": [], "sub_reports": [],
        }, {
            "report_id": keyed.report_id, "name": "Keyed", "app_name": "App", "section": "Section",
            "flag": False, "columns": [{"title": "Key", "data_key": "Key"}],
            "rows": [{"title": None, "cells": {"Key": "v"}}], "sub_reports": [],
        }],
    }
    assert list(report.to_dict()["rows"][0]["cells"]) == ["Name", "Size"]  # column order
    json.dumps(report.to_dict(), allow_nan=False)


def test_parent_report_outside_a_runner():
    class Plain:
        pass

    parent = ParentReport(Plain())
    assert parent.name == "Plain"
    assert (parent.app_name, parent.section, parent.flag) == (None, None, None)
    child = StandardReport("child")
    assert parent.add_report(child) is child
    other = StandardReport("other")
    assert parent.add_sub_report(other) is other
    assert parent.add_column("Count", column_data=[1]) is parent
    assert parent.add_row("Count", 2) is parent
    parent.add_row("Device", "x", "Keyed")
    keyed = parent.sub_reports[2]
    assert parent.sub_reports == [child, other, keyed]
    assert parent.to_dict() == {
        "report_id": parent.report_id, "name": "Plain", "app_name": None, "section": None,
        "flag": None, "columns": [{"title": "Count", "data_key": "Count"}],
        "rows": [{"title": None, "cells": {"Count": 1}}, {"title": None, "cells": {"Count": 2}}],
        "sub_reports": [child.to_dict(), other.to_dict(), keyed.to_dict()],
    }
    assert ParentReport(None).name is None


def test_sub_reports_are_checked():
    report = StandardReport("r")
    with pytest.raises(TypeError):
        report.add_sub_report({"name": "not a report"})
    with pytest.raises(ValueError):
        report.add_sub_report(report)
    child = report.add_sub_report(StandardReport("child"))
    with pytest.raises(ValueError):
        child.add_sub_report(report)  # would contain itself
    assert child.sub_reports == []


def test_values_are_rendered_json_safe():
    class Odd:
        def __repr__(self):
            return "<Odd>"

    class Broken:
        def __repr__(self):
            raise RuntimeError("no repr")

    when = datetime.datetime(2024, 1, 2, 3, 4, 5)
    report = StandardReport(("a", "tuple"), flag=when)
    for title, value in [
        ("tuple", (1, (2, 3))),
        ("when", when),
        ("nan", float("nan")),
        ("set", {1}),
        ("bytes", b"ab"),
        ("keys", {1: "x", None: "y", (1, 2): "z"}),
        ("odd", Odd()),
        ("broken", Broken()),
    ]:
        report.add_row(title, value)
    report.add_row(("a", 1), "tuple title")
    data = report.to_dict()
    text = json.dumps(data, allow_nan=False)
    assert json.loads(text) == data
    assert data["name"] == ["a", "tuple"]
    assert data["flag"] == repr(when)
    assert data["columns"][-1] == {"title": "('a', 1)", "data_key": "('a', 1)"}
    assert data["rows"] == [{"title": None, "cells": {
        "tuple": [1, [2, 3]],
        "when": repr(when),
        "nan": "nan",
        "set": "{1}",
        "bytes": "b'ab'",
        "keys": {"1": "x", "None": "y", "(1, 2)": "z"},
        "odd": "<Odd>",
        "broken": "<Broken object (repr() failed)>",
        "('a', 1)": "tuple title",
    }}]


def test_values_are_rendered_when_the_report_is():
    report = StandardReport("r")
    value = ["first"]
    report.add_row("List", value)
    value.append("later")
    assert report.to_dict()["rows"] == [{"title": None, "cells": {"List": ["first", "later"]}}]


def test_reports_created_outside_a_run_are_not_collected():
    StandardReport("outside").add_row("x", 1)
    source = step_source(
        """
        class Nothing(BaseStep):
            def execute(self):
                pass
        """
    )
    assert "reports" not in run(source, generate_report=True)


# ---------------------------------------------------------------- through the runner
BUILDER = report_step(
    """
    class Builder(BaseStep):
        def execute(self):
            report = StandardReport("Devices", self.application_name, "Inventory", True)
            report.add_column("Name", column_data=[self.get_parameter("who")])
            self.save_data_for_next_step({"report_id": report.report_id, "asked": self.generate_report})
    """
)


def test_reports_are_returned_when_the_application_generates_reports():
    response = run(BUILDER, parameters={"who": "ann"}, application_name="App", generate_report=True)
    assert response["ok"] is True, response
    assert json.loads(response["json"])["asked"] is True
    [report] = reports_of(response)
    assert report == {
        "report_id": json.loads(response["json"])["report_id"],
        "name": "Devices", "app_name": "App", "section": "Inventory", "flag": True,
        "columns": [{"title": "Name", "data_key": "Name"}],
        "rows": [{"title": None, "cells": {"Name": "ann"}}],
        "sub_reports": [],
    }
    assert report_manager._collected is None


@pytest.mark.parametrize("flag", [False, None, "absent"])
def test_no_reports_without_generate_report(flag):
    extra = {} if flag == "absent" else {"generate_report": flag}
    response = run(BUILDER, parameters={"who": "ann"}, **extra)
    assert response["ok"] is True
    assert json.loads(response["json"])["asked"] is False
    assert "reports" not in response
    assert set(response) == {"ok", "pickle", "json"}


def test_no_reports_key_when_the_step_built_none():
    source = step_source(
        """
        class NoReport(BaseStep):
            def execute(self):
                self.save_data_for_next_step(1)
        """
    )
    response = run(source, generate_report=True)
    assert response["ok"] is True and "reports" not in response


def test_reports_are_returned_when_the_step_fails_after_building_one():
    source = report_step(
        """
        class Fails(BaseStep):
            def execute(self):
                report = StandardReport("Partial")
                report.add_row("done", 1)
                if self.get_parameter("save"):
                    self.save_data_for_next_step(["partial"])
                raise RuntimeError("boom")
        """
    )
    response = run(source, generate_report=True)
    assert response["ok"] is False and response["message"] == "boom"
    assert "pickle" not in response
    [report] = reports_of(response)
    assert report["name"] == "Partial"
    assert report["rows"] == [{"title": None, "cells": {"done": 1}}]

    response = run(source, parameters={"save": True}, generate_report=True)
    assert response["ok"] is False
    assert json.loads(response["json"]) == ["partial"]
    assert [r["name"] for r in reports_of(response)] == ["Partial"]

    response = run(source, parameters={"save": True})
    assert response["ok"] is False and "reports" not in response


def test_reports_are_returned_when_a_required_parameter_is_missing_after_init_built_one():
    source = report_step(
        """
        class Early(BaseStep):
            def __init__(self):
                self.new_step_parameter(name="needed", required=True)
                StandardReport("from init")

            def execute(self):
                pass
        """
    )
    response = run(source, generate_report=True)
    assert response["ok"] is False
    assert [r["name"] for r in reports_of(response)] == ["from init"]


def test_parent_report_of_a_step_holds_its_sub_reports_once():
    source = report_step(
        """
        class Compare(BaseStep):
            def execute(self):
                if self.generate_report:
                    parent = ParentReport(self)
                    for status in ("New", "Removed"):
                        sub = StandardReport(status, self.application_name)
                        sub.add_row("count", len(status))
                        parent.add_report(sub)
                    nested = parent.add_sub_report(StandardReport("Nested"))
                    nested.add_sub_report(StandardReport("Deeper"))
                    StandardReport("Alone")
        """
    )
    response = run(source, step_name="Compare Devices", application_name="App", generate_report=True)
    assert response["ok"] is True, response
    reports = reports_of(response)
    assert [r["name"] for r in reports] == ["Compare Devices", "Alone"]
    parent = reports[0]
    assert (parent["app_name"], parent["section"], parent["flag"]) == (None, None, None)
    assert parent["columns"] == [] and parent["rows"] == []
    assert [s["name"] for s in parent["sub_reports"]] == ["New", "Removed", "Nested"]
    assert parent["sub_reports"][0]["app_name"] == "App"
    assert parent["sub_reports"][0]["rows"] == [{"title": None, "cells": {"count": 3}}]
    assert [s["name"] for s in parent["sub_reports"][2]["sub_reports"]] == ["Deeper"]
    ids = [parent["report_id"]] + [s["report_id"] for s in parent["sub_reports"]]
    assert len(set(ids)) == len(ids)


def test_runner_returns_a_standard_report_filled_through_a_data_key():
    source = report_step(
        """
        class Sync(BaseStep):
            def execute(self):
                report = StandardReport("Sync", self.application_name, "tmp section", True)
                report.add_column("Device", "Created", ["dev-1", "dev-2"])
                report.add_column("IP", "Created", ["10.0.0.1", "10.0.0.2"])
        """
    )
    response = run(source, application_name="App", generate_report=True)
    assert response["ok"] is True, response
    [report] = reports_of(response)
    assert (report["name"], report["columns"], report["rows"]) == ("Sync", [], [])
    [sub] = report["sub_reports"]
    assert (sub["name"], sub["app_name"], sub["section"], sub["flag"]) == ("Created", "App", "tmp section", True)
    assert sub["columns"] == [{"title": "Device", "data_key": "Device"}, {"title": "IP", "data_key": "IP"}]
    assert sub["rows"] == [
        {"title": None, "cells": {"Device": "dev-1", "IP": "10.0.0.1"}},
        {"title": None, "cells": {"Device": "dev-2", "IP": "10.0.0.2"}},
    ]


def test_runner_returns_a_parent_report_filled_per_device():
    source = report_step(
        """
        class Compare(BaseStep):
            def execute(self):
                report = ParentReport(self)
                for device, status in [("a", "New"), ("b", "Removed"), ("c", "New")]:
                    report.add_column("Device", status)
                    report.add_column("Status", status)
                    report.add_row("Device", device, status)
                    report.add_row("Status", status, status)
        """
    )
    response = run(source, step_name="Compare Devices", application_name="App", generate_report=True)
    assert response["ok"] is True, response
    [report] = reports_of(response)  # the data-key tables are not top-level reports
    assert report["name"] == "Compare Devices"
    assert report["columns"] == [] and report["rows"] == []
    new, removed = report["sub_reports"]
    assert (new["name"], removed["name"]) == ("New", "Removed")
    assert new["columns"] == [{"title": "Device", "data_key": "Device"},
                              {"title": "Status", "data_key": "Status"}]
    assert new["rows"] == [
        {"title": None, "cells": {"Device": "a", "Status": "New"}},
        {"title": None, "cells": {"Device": "c", "Status": "New"}},
    ]
    assert removed["rows"] == [{"title": None, "cells": {"Device": "b", "Status": "Removed"}}]


def test_a_report_added_as_sub_report_after_its_children_were_created_first():
    source = report_step(
        """
        class Order(BaseStep):
            def execute(self):
                first = StandardReport("child made first")
                top = StandardReport("top")
                top.add_sub_report(first)
        """
    )
    response = run(source, generate_report=True)
    [top] = reports_of(response)
    assert top["name"] == "top"
    assert [s["name"] for s in top["sub_reports"]] == ["child made first"]


def test_consecutive_executions_do_not_share_reports():
    first = run(BUILDER, parameters={"who": "ann"}, generate_report=True)
    second = run(BUILDER, parameters={"who": "bob"}, generate_report=True)
    [one] = reports_of(first)
    [two] = reports_of(second)
    assert one["rows"] == [{"title": None, "cells": {"Name": "ann"}}]
    assert two["rows"] == [{"title": None, "cells": {"Name": "bob"}}]
    assert one["report_id"] != two["report_id"]
    # reports built in a run without generate_report do not show up later
    run(BUILDER, parameters={"who": "carl"})
    quiet = step_source(
        """
        class Quiet(BaseStep):
            def execute(self):
                pass
        """
    )
    assert "reports" not in run(quiet, generate_report=True)


def test_reports_created_in_a_thread_of_the_step_are_collected():
    source = report_step(
        """
        import threading

        class Threaded(BaseStep):
            def execute(self):
                worker = threading.Thread(target=lambda: StandardReport("from a thread"))
                worker.start()
                worker.join()
        """
    )
    assert [r["name"] for r in reports_of(run(source, generate_report=True))] == ["from a thread"]


def test_secrets_are_masked_in_reports():
    source = report_step(
        """
        class Leaky(BaseStep):
            def execute(self):
                password = self.get_parameter("password")
                report = StandardReport("login " + password)
                report.add_row(password, password)
                report.add_row("dict", {"password": password, password: "as a key"})
                report.add_row("accent", self.get_parameter("other"), data_key=password)
        """
    )
    response = run(source, parameters={"password": "${config.pw}", "other": "${config.accented}"},
                   config={"pw": "Tr0ub4dor", "accented": "p\u00e4ssw\u00f6rd"},
                   secret_config=["pw", "accented"], generate_report=True)
    assert response["ok"] is True, response
    text = response["reports"]
    assert "Tr0ub4dor" not in text
    assert "p\\u00e4ssw\\u00f6rd" not in text and "p\u00e4ssw\u00f6rd" not in text
    [report] = json.loads(text)
    assert report["name"] == "login ******"
    assert report["columns"] == [{"title": "******", "data_key": "******"},
                                 {"title": "dict", "data_key": "dict"}]
    assert report["rows"] == [{"title": None, "cells": {
        "******": "******", "dict": {"password": "******", "******": "as a key"}}}]
    [sub] = report["sub_reports"]
    assert sub["name"] == "******"
    assert sub["rows"] == [{"title": None, "cells": {"accent": "******"}}]
    assert ipaas_logger.mask("Tr0ub4dor") == "Tr0ub4dor"  # forgotten after the run


def test_a_report_that_cannot_be_rendered_is_replaced_by_an_error():
    source = report_step(
        """
        class Bad(BaseStep):
            def execute(self):
                good = StandardReport("good")
                bad = StandardReport("bad")
                bad.sub_reports.append("not a report")
                loop = StandardReport("loop")
                loop.sub_reports.append(loop)
        """
    )
    response = run(source, generate_report=True)
    assert response["ok"] is True
    good, bad, loop = reports_of(response)
    assert good["name"] == "good" and "error" not in good
    assert bad["name"] == "bad" and bad["rows"] == [] and bad["sub_reports"] == []
    assert "could not be rendered" in bad["error"] and "not a report" in bad["error"]
    assert "contains itself" in loop["error"]
    assert re.fullmatch(r"report-[0-9a-f]{32}", bad["report_id"])


def test_reports_never_make_execute_raise():
    source = report_step(
        """
        class Weird(BaseStep):
            def execute(self):
                class Exploding(StandardReport):
                    def to_dict(self):
                        raise KeyboardInterrupt
                Exploding("x")
        """
    )
    response = run(source, generate_report=True)
    assert response["ok"] is True
    [report] = reports_of(response)
    assert "KeyboardInterrupt" in report["error"]
