"""Trigger Application against the fake host: blocking runs save the child's
output (one terminal step as is, several by name) and fail with the child;
non-blocking runs save the run id; bad params fail before anything starts."""

import os

from helpers import PY_DIR_STEPS, run, run_ok


def trigger_source():
    with open(os.path.join(PY_DIR_STEPS, "TriggerApplication.py")) as f:
        return f.read()


def test_blocking_saves_the_one_terminal_steps_data(host):
    host.children["child"] = ("SUCCESS", True, [("Last", {"rows": 3})], [])
    data = run_ok(trigger_source(), parameters={"application_name": "child", "params": {"who": "x"}})
    assert data == {"rows": 3}
    assert host.calls[0] == ("run_application", "child", {"who": "x"}, True)
    assert host.calls[1] == ("await_run", "isapp-1", 3600.0)


def test_several_terminal_steps_are_saved_by_name(host):
    host.children["child"] = ("SUCCESS", True, [("A", 1), ("B", [2])], [])
    assert run_ok(trigger_source(), parameters={"application_name": "child"}) == {"A": 1, "B": [2]}


def test_a_failed_child_fails_the_step_naming_its_failed_steps(host):
    host.children["child"] = ("FAILURE", True, [], ["Fetch: ConnectionError: refused"])
    response = run(trigger_source(), parameters={"application_name": "child"})
    assert not response["ok"]
    assert "ended in FAILURE" in response["message"]
    assert "Fetch: ConnectionError: refused" in response["message"]


def test_a_child_still_running_at_the_timeout_fails_the_step(host):
    host.children["child"] = ("STARTED", False, [], [])
    response = run(trigger_source(), parameters={"application_name": "child", "timeout": 2})
    assert not response["ok"]
    assert "did not finish within 2 seconds" in response["message"]
    assert host.calls[-1] == ("await_run", "isapp-1", 2.0)


def test_non_blocking_saves_the_run_id_and_does_not_wait(host):
    host.children["child"] = ("PENDING", False, [], [])
    data = run_ok(trigger_source(), parameters={"application_name": "child", "blocking": False})
    assert data == {"application_name": "child", "application_id": "isapp-1"}
    assert host.calls == [("run_application", "child", {}, False)]


def test_an_unknown_application_or_bad_params_fail_clearly(host):
    response = run(trigger_source(), parameters={"application_name": "nope"})
    assert not response["ok"] and "no application named 'nope'" in response["message"]
    response = run(trigger_source(), parameters={"application_name": "child", "params": [1, 2]})
    assert not response["ok"] and "must be a dict" in response["message"]
    response = run(trigger_source(), parameters={"application_name": "child", "params": {"x": {1, 2}}})
    assert not response["ok"] and "JSON values" in response["message"]
