"""Trigger Application: starts a run of another application.  Blocking (the
default), it waits for that run, saves its output and fails when it fails;
otherwise it saves the new run's id and goes on at once."""

from ipaascommon import ipaas_exceptions
from ipaascommon.application_runs import trigger_application, wait_for_application
from ipaascore.BaseStep import BaseStep


class TriggerApplication(BaseStep):
    def __init__(self):
        self.friendly_name = "Trigger Application"
        self.description = "Runs another application, waiting for its result unless blocking is off"
        self.version = "1.0.0"
        self.new_step_parameter(name="application_name", description="the application to run",
                                sample_value="integration_template", required=True)
        self.new_step_parameter(name="params", description="the run's params: app variables, and "
                                                           "configuration, queue or log_level",
                                sample_value={"log_level": 10}, default_value={})
        self.new_step_parameter(name="blocking", description="wait for the run and save its output",
                                sample_value=True, default_value=True)
        self.new_step_parameter(name="timeout", description="seconds to wait for a blocking run",
                                sample_value=600, default_value=3600)

    def execute(self):
        name = self.get_parameter("application_name")
        params = self.get_parameter("params") or {}
        blocking = self.get_parameter("blocking")
        run_id = trigger_application(name, params, blocking)
        self.logger.info("started application %s as run %s" % (name, run_id))
        if not blocking:
            self.save_data_for_next_step({"application_name": name, "application_id": run_id})
            return
        child = wait_for_application(run_id, self.get_parameter("timeout"))
        if not child.finished:
            raise ipaas_exceptions.StepFailedException(
                "application %s (run %s) did not finish within %s seconds; it is still %s"
                % (name, run_id, self.get_parameter("timeout"), child.state))
        if not child.succeeded:
            detail = "; ".join(child.failures) if child.failures else "no step failed; it was revoked"
            raise ipaas_exceptions.StepFailedException(
                "application %s (run %s) ended in %s: %s" % (name, run_id, child.state, detail))
        self.logger.info("run %s of %s succeeded" % (run_id, name))
        self.save_data_for_next_step(child.output())
