"""MS-SQL Select: runs one query on a Microsoft SQL Server and saves the
rows it returns, each a dict of column name to value."""

from base_steps_syncpack.util import db, sql
from ipaascore.BaseStep import BaseStep


class MsSqlSelect(BaseStep):
    def __init__(self):
        self.friendly_name = "MS-SQL Select"
        self.description = ("Runs a query on a Microsoft SQL Server and saves the rows it returns "
                            "(a list of dicts) for the next steps")
        self.version = "1.0.0"
        db.declare_connection_parameters(self, sql.MSSQL)
        db.declare_query_parameters(self)

    def execute(self):
        self.save_data_for_next_step(db.run_select(self, sql.MSSQL))
