"""MySQL Select: runs one query on a MySQL server and saves the rows it
returns, each a dict of column name to value."""

from base_steps_syncpack.util import db, sql
from ipaascore.BaseStep import BaseStep


class MySqlSelect(BaseStep):
    def __init__(self):
        self.friendly_name = "MySQL Select"
        self.description = ("Runs a query on a MySQL server and saves the rows it returns "
                            "(a list of dicts) for the next steps")
        self.version = "1.0.0"
        db.declare_connection_parameters(self, sql.MYSQL)
        db.declare_query_parameters(self)

    def execute(self):
        self.save_data_for_next_step(db.run_select(self, sql.MYSQL))
