"""Runs of other applications, started from a step (what the Base Steps
pack's Trigger Application uses).

A run started here is a child of the running step's application run: it
shows ``triggered_by`` ``APPLICATION`` with the parent's id, and nests at
most ten deep.  Waiting for it holds the step's worker, so the child needs
another free worker on its queue.
"""

import json
import pickle

from ipaascommon.content_manger import _host


class ChildRun:
    """Where a started run stands after :func:`wait_for_application`."""

    def __init__(self, run_id, state, finished, outputs, failures):
        self.run_id = run_id
        self.state = state
        self.finished = finished
        # [(terminal step name, saved data)], in application order.
        self.outputs = outputs
        self.failures = failures

    @property
    def succeeded(self):
        return self.state == "SUCCESS"

    def output(self):
        """The data of the run's one terminal step as is, or ``{step: data}``
        when it has several."""
        if len(self.outputs) == 1:
            return self.outputs[0][1]
        return {name: data for name, data in self.outputs}


def trigger_application(name, params=None, blocking=True):
    """Starts a run of application ``name``; ``params`` are the run's params
    (app variable overrides and the options ``configuration``, ``queue``,
    ``log_level``).  ``blocking``: the step will wait for the run, so
    revoking the step's run revokes it too.  Answers the new run's id."""
    if not isinstance(name, str) or not name:
        raise ValueError("the application to trigger must be a non-empty name, got %r" % (name,))
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise TypeError("params of a triggered run must be a dict, got %s" % type(params).__name__)
    try:
        text = json.dumps(params)
    except (TypeError, ValueError) as exc:
        raise TypeError("params of a triggered run must be JSON values: %s" % exc) from exc
    return _host().run_application(name, text, bool(blocking))


def wait_for_application(run_id, timeout):
    """Waits until run ``run_id`` has finished, at most ``timeout`` seconds
    (``None``: no limit); answers a :class:`ChildRun` (``finished`` is false
    when the wait timed out)."""
    if timeout is None:
        seconds = float("inf")
    else:
        try:
            seconds = float(timeout)
        except (TypeError, ValueError):
            raise ValueError("timeout must be a number of seconds, got %r" % (timeout,)) from None
        if seconds != seconds or seconds < 0:
            raise ValueError("timeout must be a positive number of seconds, got %r" % (timeout,))
    state, finished, outputs, failures = _host().await_run(run_id, seconds)
    decoded = []
    for step, blob in outputs:
        decoded.append((step, None if blob is None else pickle.loads(bytes(blob))))
    return ChildRun(run_id, state, finished, decoded, list(failures))
