"""MS-SQL Describe: saves the columns of a Microsoft SQL Server table
(name, type, whether it takes NULL, key, default and extra), read from
INFORMATION_SCHEMA."""

from base_steps_syncpack.util import db, sql
from ipaascore.BaseStep import BaseStep


class MsSqlDescribe(BaseStep):
    def __init__(self):
        self.friendly_name = "MS-SQL Describe"
        self.description = "Saves the columns of a Microsoft SQL Server table for the next steps"
        self.version = "1.0.0"
        db.declare_connection_parameters(self, sql.MSSQL)
        db.declare_table_parameter(self, "the table to describe (or schema.table)")

    def execute(self):
        self.save_data_for_next_step(db.run_describe(self, sql.MSSQL))
