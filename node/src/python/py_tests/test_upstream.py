"""Data of previous steps: join rules, by name, by order, positions, their parameters."""

import pickle

from helpers import run, run_ok, step_source, up

CALL = step_source(
    """
    class Reader(BaseStep):
        def execute(self):
            try:
                result = CALL(self)
            except (ipaas_exceptions.DataNotAvailableException,
                    ipaas_exceptions.StepFailedException) as exc:
                result = {"raised": type(exc).__name__, "message": str(exc)}
            self.save_data_for_next_step(result)

    CALL = lambda self: %s
    """
)


def call(expression, upstream, **overrides):
    return run_ok(CALL % expression, upstream=upstream, **overrides)


# ---------------------------------------------------------------- join
def test_join_one_upstream_returns_its_data_as_is():
    assert call("self.join_previous_step_data()", [up("A", "just text")]) == "just text"
    assert call("self.join_previous_step_data()", [up("A", {"k": 1})]) == {"k": 1}
    assert call("self.join_previous_step_data()", [up("A", [1])]) == [1]


def test_join_lists_are_concatenated_in_position_order():
    upstream = [up("A", [1, 2]), up("B", [3]), up("C", [])]
    assert call("self.join_previous_step_data()", upstream) == [1, 2, 3]


def test_join_dicts_are_merged_in_position_order():
    upstream = [up("A", {"a": 1, "shared": "A"}), up("B", {"b": 2, "shared": "B"})]
    assert call("self.join_previous_step_data()", upstream) == {"a": 1, "b": 2, "shared": "B"}


def test_join_other_equal_types_give_a_list():
    assert call("self.join_previous_step_data()", [up("A", 1), up("B", 2), up("C", 3)]) == [1, 2, 3]
    assert call("self.join_previous_step_data()", [up("A", "x"), up("B", "y")]) == ["x", "y"]
    assert call("self.join_previous_step_data()", [up("A", (1,)), up("B", (2,))]) == [(1,), (2,)]


def test_join_mixed_types_fail_naming_steps_and_types():
    upstream = [up("Fetch A", [1]), up("Fetch B", {"k": 1}), up("Fetch C", "s")]
    result = call("self.join_previous_step_data()", upstream, step_name="Joiner")
    assert result["raised"] == "StepFailedException"
    message = result["message"]
    assert "'Fetch A' saved list" in message
    assert "'Fetch B' saved dict" in message
    assert "'Fetch C' saved str" in message
    assert "'Joiner'" in message


def test_join_mixed_types_fail_the_step_when_not_caught():
    source = step_source(
        """
        class Joins(BaseStep):
            def execute(self):
                self.save_data_for_next_step(self.join_previous_step_data())
        """
    )
    response = run(source, upstream=[up("A", [1]), up("B", 2)])
    assert response["ok"] is False
    assert response["error_type"] == "StepFailedException"
    assert "'A' saved list, 'B' saved int" in response["message"]


def test_join_data_from_limits_the_steps():
    upstream = [up("A", [1]), up("B", "not a list"), up("C", [3])]
    assert call("self.join_previous_step_data(['C', 'A'])", upstream) == [1, 3]  # position order
    assert call("self.join_previous_step_data('B')", upstream) == "not a list"
    result = call("self.join_previous_step_data(['A', 'Z'])", upstream)
    assert result["raised"] == "DataNotAvailableException"
    assert "'Z'" in result["message"]


def test_join_skips_steps_that_saved_nothing_or_none():
    upstream = [up("A", saved=False), up("B", [1]), up("C", None), up("D", [2])]
    assert call("self.join_previous_step_data()", upstream) == [1, 2]
    assert call("self.join_previous_step_data()", []) is None
    assert call("self.join_previous_step_data()", [up("A", saved=False)]) is None


# ---------------------------------------------------------------- by name
def test_get_data_from_step_by_name():
    upstream = [up("FetchDevicesFromEM7", [{"id": 1}]), up("Empty", saved=False), up("NoneSaver", None)]
    assert call("self.get_data_from_step_by_name('FetchDevicesFromEM7')", upstream) == [{"id": 1}]
    assert call("self.get_data_from_step_by_name('NoneSaver')", upstream) is None
    result = call("self.get_data_from_step_by_name('Empty')", upstream)
    assert result["raised"] == "DataNotAvailableException"
    assert "'Empty' saved no data" in result["message"]
    result = call("self.get_data_from_step_by_name('Unknown')", upstream, step_name="Me")
    assert result["raised"] == "DataNotAvailableException"
    assert "'Unknown' is not a previous step of 'Me'" in result["message"]
    assert "'FetchDevicesFromEM7'" in result["message"]


def test_data_not_available_fails_the_step_when_not_caught():
    source = step_source(
        """
        class Needs(BaseStep):
            def execute(self):
                self.get_data_from_step_by_name("missing")
        """
    )
    response = run(source)
    assert response["ok"] is False
    assert response["error_type"] == "DataNotAvailableException"


# ---------------------------------------------------------------- by order / positions
UPSTREAM = [up("stepA", "a"), up("stepB", "b"), up("stepC", "c"), up("stepD", saved=False)]


def test_get_data_from_step_by_order():
    assert call("[self.get_data_from_step_by_order(i) for i in range(3)]", UPSTREAM) == ["a", "b", "c"]
    assert call("self.get_data_from_step_by_order(2)", UPSTREAM) == "c"
    for position in ("3", "4", "-1", "'x'"):
        result = call("self.get_data_from_step_by_order(%s)" % position, UPSTREAM)
        assert result["raised"] == "DataNotAvailableException", position
    assert "saved no data" in call("self.get_data_from_step_by_order(3)", UPSTREAM)["message"]
    assert "no previous step at position 4" in call("self.get_data_from_step_by_order(4)", UPSTREAM)["message"]


def test_available_positions():
    assert call("self.get_available_previous_step_input_positions()", UPSTREAM) == [
        ("stepA", 0), ("stepB", 1), ("stepC", 2), ("stepD", 3)]
    assert call("self.get_available_previous_step_input_positions()", []) == []


# ---------------------------------------------------------------- parameters of previous steps
def test_get_parameter_from_previous_step():
    upstream = [up("GETgoogle.com", "x", parameters={"prefix_url": "http://google.com", "n": 3})]
    assert call("self.get_parameter_from_previous_step('prefix_url', 'GETgoogle.com')",
                upstream) == "http://google.com"
    assert call("self.get_parameter_from_previous_step('n', 'GETgoogle.com')", upstream) == 3
    assert call("self.get_parameter_from_previous_step('other', 'GETgoogle.com')", upstream) is None
    result = call("self.get_parameter_from_previous_step('n', 'nope')", upstream)
    assert result["raised"] == "DataNotAvailableException"


# ---------------------------------------------------------------- transport details
def test_upstream_pickles_are_unpickled_once_and_bytearray_is_accepted():
    upstream = [{"name": "A", "data": bytearray(pickle.dumps({"k": [1]})), "parameters": {}}]
    assert call("self.get_data_from_step_by_name('A') is self.join_previous_step_data()", upstream) is True


def test_corrupt_upstream_data_fails_naming_the_step():
    upstream = [{"name": "Broken", "data": b"not a pickle", "parameters": {}}]
    result = call("self.join_previous_step_data()", upstream)
    assert result["raised"] == "StepFailedException"
    assert "'Broken' cannot be unpickled" in result["message"]
