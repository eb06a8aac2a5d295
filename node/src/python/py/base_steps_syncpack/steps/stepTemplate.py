"""The step template: a complete small step to copy when writing a new one
(rename the file and the class to the new step's name)."""

from ipaascommon import ipaas_exceptions
from ipaascore.BaseStep import BaseStep


class stepTemplate(BaseStep):
    def __init__(self):
        self.friendly_name = "Step Template"
        self.description = "Copy me: rename the file and the class to the new step's name"
        self.version = "1.0.0"
        self.new_step_parameter(name="greeting", description="what to say",
                                sample_value="hello", default_value="hello", required=False)

    def execute(self):
        greeting = self.get_parameter("greeting")
        if not greeting:
            raise ipaas_exceptions.StepFailedException("greeting must not be empty")
        self.logger.info("saying %s" % greeting)
        self.save_data_for_next_step({"said": greeting})
