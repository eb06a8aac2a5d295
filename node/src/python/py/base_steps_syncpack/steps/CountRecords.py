"""Count Records: counts the records the previous steps saved (the second
step of the template application)."""

from ipaascore.BaseStep import BaseStep


class CountRecords(BaseStep):
    def __init__(self):
        self.friendly_name = "Count Records"
        self.description = "Counts the joined data of the previous steps, plus an offset"
        self.version = "1.0.0"
        self.new_step_parameter(name="offset", description="added to the count",
                                sample_value="${stepfunc.double 2}", default_value=0, required=False)

    def double(self, n):
        return n * 2

    def execute(self):
        records = self.join_previous_step_data()
        count = 0 if records is None else len(records)
        total = count + int(self.get_parameter("offset"))
        self.logger.flow("counted %d" % total)
        self.save_data_for_next_step({"count": total})
