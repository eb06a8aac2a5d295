"""Helpers to drive steps through the runner's entry points."""

import hashlib
import os
import pickle
import re
import textwrap

from ipaascore import _runner

# The Base Steps pack's step sources (embedded in the node like the packages).
PY_DIR_STEPS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "py",
                            "base_steps_syncpack", "steps")

HEADER = (
    "from ipaascore.BaseStep import BaseStep\n"
    "from ipaascore import parameter_types\n"
    "from ipaascommon import ipaas_exceptions\n"
)


def step_source(body, header=True):
    """A step source: the usual imports followed by ``body`` (dedented)."""
    body = textwrap.dedent(body).lstrip("\n")
    return (HEADER + body) if header else body


def class_name_of(source):
    names = re.findall(r"^class\s+(\w+)", source, re.M)
    return names[-1]


def make_request(source, class_name=None, **overrides):
    class_name = class_name or class_name_of(source)
    request = {
        "task_id": "task-1",
        "step_name": class_name,
        "class_name": class_name,
        "source": source,
        "source_hash": hashlib.sha256(source.encode("utf-8")).hexdigest(),
        "application_name": None,
        "application_id": None,
        "parameters": {},
        "app_variables": [],
        "run_params": {},
        "config": {},
        "upstream": [],
        "log_level": 0,
    }
    request.update(overrides)
    return request


def run(source, class_name=None, **overrides):
    """``_runner.execute`` on ``source``; returns the response dict."""
    return _runner.execute(make_request(source, class_name, **overrides))


def run_ok(source, class_name=None, **overrides):
    """Run and return the unpickled saved data; fail the test on a step failure."""
    response = run(source, class_name, **overrides)
    assert response["ok"], response
    if response["pickle"] is None:
        return None
    return pickle.loads(response["pickle"])


def up(name, data=None, parameters=None, saved=True):
    """An ``upstream`` entry; ``saved=False`` means the step saved nothing."""
    return {
        "name": name,
        "data": pickle.dumps(data) if saved else None,
        "parameters": parameters or {},
    }


def probe(expression, **overrides):
    """Run a step whose execute() saves ``eval(expression)`` (``self`` in scope)."""
    source = step_source(
        """
        class Probe(BaseStep):
            def __init__(self):
                pass

            def add_numbers(self, a, b):
                return a + b

            def echo(self, *args):
                return list(args)

            def execute(self):
                self.save_data_for_next_step(%s)
        """ % expression
    )
    return run(source, **overrides)
