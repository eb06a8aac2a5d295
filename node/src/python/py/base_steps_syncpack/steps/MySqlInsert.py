"""MySQL Insert: inserts the records the previous steps saved (a list of
dicts, or one dict) as rows of a MySQL table; the dict keys name the
columns."""

from base_steps_syncpack.util import db, sql
from ipaascore.BaseStep import BaseStep


class MySqlInsert(BaseStep):
    def __init__(self):
        self.friendly_name = "MySQL Insert"
        self.description = ("Inserts the records of the previous steps into a MySQL table "
                            "(the records' keys are the column names)")
        self.version = "1.0.0"
        db.declare_connection_parameters(self, sql.MYSQL)
        db.declare_table_parameter(self, "the table to insert into (or database.table)")

    def rows_to_insert(self):
        """The records to insert; subclasses may override it to shape them."""
        return self.join_previous_step_data()

    def execute(self):
        self.save_data_for_next_step(db.run_insert(self, sql.MYSQL, self.rows_to_insert()))
