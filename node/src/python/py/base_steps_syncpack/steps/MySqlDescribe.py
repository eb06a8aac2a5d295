"""MySQL Describe: saves the columns of a MySQL table (name, type, whether
it takes NULL, key, default and extra)."""

from base_steps_syncpack.util import db, sql
from ipaascore.BaseStep import BaseStep


class MySqlDescribe(BaseStep):
    def __init__(self):
        self.friendly_name = "MySQL Describe"
        self.description = "Saves the columns of a MySQL table for the next steps"
        self.version = "1.0.0"
        db.declare_connection_parameters(self, sql.MYSQL)
        db.declare_table_parameter(self, "the table to describe (or database.table)")

    def execute(self):
        self.save_data_for_next_step(db.run_describe(self, sql.MYSQL))
