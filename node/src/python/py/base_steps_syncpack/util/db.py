"""What the MySQL and MS-SQL steps share: their parameters, the connection
(through the dialect's driver, imported when a step runs) and the work of
select, insert and describe.  The SQL itself is built by ``util.sql``.

A step calls ``run_select``, ``run_insert`` or ``run_describe`` with itself
and a dialect; parameters are read with ``step.get_parameter``, so a
subclass may set ``self.parameters[name].value`` before calling the parent
step's ``execute()``.
"""

from base_steps_syncpack.util import drivers, sql
from ipaascommon import ipaas_exceptions

DB_HOST = "db_host"
DB_PORT = "db_port"
DB_NAME = "db_name"
USER = "user"
PASSWORD = "password"
TIMEOUT = "timeout"
QUERY = "query"
QUERY_PARAMS = "query_params"
TABLE = "table"

# How much of a statement an error message quotes.
_SHOWN_SQL = 300


def declare_connection_parameters(step, dialect):
    """Declares on ``step`` the parameters of a connection to a
    ``dialect`` server."""
    from ipaascore import parameter_types
    step.new_step_parameter(name=DB_HOST, description="the %s server's host name or address" % dialect.label,
                            sample_value="db.example.com", default_value=None, required=True)
    step.new_step_parameter(name=DB_PORT, description="the %s server's port" % dialect.label,
                            sample_value=dialect.default_port, default_value=dialect.default_port,
                            param_type=parameter_types.NumberParameter())
    step.new_step_parameter(name=DB_NAME, description="the database to use (none: the login's default)",
                            sample_value="inventory", default_value=None)
    step.new_step_parameter(name=USER, description="the user to log in as",
                            sample_value="${config.db_user}", default_value=None)
    step.new_step_parameter(name=PASSWORD, description="the user's password",
                            sample_value="${config.db_password}", default_value=None,
                            param_type=parameter_types.PasswordParameter())
    step.new_step_parameter(name=TIMEOUT, description="seconds to wait for the connection",
                            sample_value=30, default_value=30,
                            param_type=parameter_types.NumberParameter())


def declare_query_parameters(step):
    step.new_step_parameter(name=QUERY, description="the statement; %s marks each value taken from "
                                                    "query_params (write %% for a literal % then)",
                            sample_value="SELECT id, name FROM devices WHERE site = %s",
                            default_value=None, required=True)
    step.new_step_parameter(name=QUERY_PARAMS, description="the values of the %s markers, in order",
                            sample_value=["paris"], default_value=None)


def declare_table_parameter(step, description):
    step.new_step_parameter(name=TABLE, description=description, sample_value="devices",
                            default_value=None, required=True)


def _shown(statement):
    text = " ".join(str(statement).split())
    if len(text) > _SHOWN_SQL:
        text = text[:_SHOWN_SQL - 3] + "..."
    return text


class Session:
    """One connection to the server a step's parameters name.

    ``with Session(step, dialect) as session:`` connects (failing the step
    with a message naming ``host:port``), commits when the block ends
    normally, rolls back when it raises, and always closes.  Driver errors
    of ``run`` become ``StepFailedException`` quoting the statement."""

    def __init__(self, step, dialect):
        self.step = step
        self.dialect = dialect
        self.host = step.get_parameter(DB_HOST)
        port = step.get_parameter(DB_PORT)
        self.port = int(port) if port not in (None, "") else dialect.default_port
        self.database = step.get_parameter(DB_NAME) or None
        self.user = step.get_parameter(USER) or None
        self.password = step.get_parameter(PASSWORD)
        timeout = step.get_parameter(TIMEOUT)
        self.timeout = float(timeout) if timeout not in (None, "") and float(timeout) > 0 else 30.0
        self.driver = None
        self.connection = None

    @property
    def where(self):
        """``host:port`` and the database, for messages."""
        text = "%s:%d" % (self.host, self.port)
        if self.database:
            text += "/%s" % self.database
        return text

    def _connect_arguments(self):
        if self.dialect is sql.MSSQL:
            arguments = {"server": self.host, "port": str(self.port),
                         "password": self.password or "", "login_timeout": int(max(1, self.timeout))}
            if self.database:
                arguments["database"] = self.database
        else:
            arguments = {"host": self.host, "port": self.port, "password": self.password or "",
                         "connect_timeout": self.timeout, "charset": "utf8mb4"}
            if self.database:
                arguments["database"] = self.database
        if self.user:
            arguments["user"] = self.user
        return arguments

    def __enter__(self):
        self.driver = drivers.load(self.dialect.module, self.dialect.pip_name,
                                   "the %s driver" % self.dialect.label)
        try:
            self.connection = self.driver.connect(**self._connect_arguments())
        except Exception as exc:
            raise ipaas_exceptions.StepFailedException(
                "cannot connect to %s at %s:%d%s: %s"
                % (self.dialect.label, self.host, self.port,
                   " as %r" % self.user if self.user else "",
                   drivers.describe_error(exc, self.password))) from None
        self.step.logger.debug("connected to %s at %s" % (self.dialect.label, self.where))
        return self

    def __exit__(self, exc_type, exc, traceback):
        connection, self.connection = self.connection, None
        if connection is None:
            return False
        try:
            if exc_type is None:
                try:
                    connection.commit()
                except Exception as error:
                    raise ipaas_exceptions.StepFailedException(
                        "%s at %s refused to commit: %s"
                        % (self.dialect.label, self.where,
                           drivers.describe_error(error, self.password))) from None
            else:
                try:
                    connection.rollback()
                except Exception:
                    pass  # the original error is the one to report
        finally:
            try:
                connection.close()
            except Exception:
                pass
        return False

    def _driver_error(self):
        error = getattr(self.driver, "Error", None)
        return error if isinstance(error, type) and issubclass(error, BaseException) else Exception

    def run(self, statement, params=None, many=None):
        """Executes ``statement`` (with ``params``, or for each row of
        ``many``) and answers ``(column names, rows)``; both are empty when
        the statement returns no result set."""
        cursor = self.connection.cursor()
        try:
            try:
                if many is not None:
                    cursor.executemany(statement, many)
                elif params is None:
                    cursor.execute(statement)
                else:
                    cursor.execute(statement, tuple(params) if isinstance(params, list) else params)
                if cursor.description is None:
                    return [], []
                return sql.column_names(cursor.description), list(cursor.fetchall())
            except self._driver_error() as exc:
                raise ipaas_exceptions.StepFailedException(
                    "%s at %s could not run the statement: %s (statement: %s)"
                    % (self.dialect.label, self.where, drivers.describe_error(exc, self.password),
                       _shown(statement))) from None
        finally:
            try:
                cursor.close()
            except Exception:
                pass


def _refused(exc):
    """A query-building refusal (bad name, bad rows) as a step failure."""
    return ipaas_exceptions.StepFailedException(str(exc))


def run_select(step, dialect):
    """Runs the step's ``query`` with its ``query_params`` and answers the
    rows as a list of dicts of column name to JSON-friendly value."""
    statement = step.get_parameter(QUERY)
    try:
        params = sql.query_parameters(step.get_parameter(QUERY_PARAMS))
    except ValueError as exc:
        raise ipaas_exceptions.InvalidStepParameter(str(exc)) from None
    with Session(step, dialect) as session:
        names, rows = session.run(statement, params)
    records = sql.rows_as_dicts(names, rows)
    step.logger.info("%s at %s: the query returned %d row%s"
                     % (dialect.label, session.where, len(records), "" if len(records) == 1 else "s"))
    return records


def run_insert(step, dialect, data):
    """Inserts ``data`` (a record or a list of records) into the step's
    ``table`` with one ``executemany`` and answers ``{"table", "inserted"}``."""
    table = step.get_parameter(TABLE)
    if data is None:
        raise ipaas_exceptions.MissingRequiredData(
            "nothing to insert into %r: the previous steps saved no records" % (table,))
    try:
        columns, rows = sql.rows_for_insert(data, dialect)
        if not rows:
            sql.quote_table(table, dialect)  # a bad name is refused even without rows
            step.logger.info("no records to insert into %s" % table)
            return {"table": table, "inserted": 0}
        statement = sql.insert_statement(dialect, table, columns)
    except (sql.InvalidIdentifier, sql.InvalidRows) as exc:
        raise _refused(exc)
    with Session(step, dialect) as session:
        session.run(statement, many=rows)
    step.logger.info("%s at %s: inserted %d row%s into %s"
                     % (dialect.label, session.where, len(rows), "" if len(rows) == 1 else "s", table))
    return {"table": table, "inserted": len(rows)}


def run_describe(step, dialect):
    """The columns of the step's ``table`` as a list of dicts: ``name``,
    ``type``, ``null`` (True when the column takes NULL), ``key`` (``PRI``,
    ``UNI``, ``MUL`` or empty), ``default`` and ``extra``."""
    table = step.get_parameter(TABLE)
    try:
        if dialect is sql.MSSQL:
            statement, params = sql.mssql_describe_statement(table)
        else:
            statement, params = sql.mysql_describe_statement(table), None
    except sql.InvalidIdentifier as exc:
        raise _refused(exc)
    with Session(step, dialect) as session:
        _, rows = session.run(statement, params)
    if dialect is sql.MSSQL:
        schemas, columns = sql.mssql_columns(rows)
        if not columns:
            raise ipaas_exceptions.StepFailedException(
                "MS-SQL at %s has no table %r (or the user cannot see it)" % (session.where, table))
        if len(schemas) > 1:
            raise ipaas_exceptions.StepFailedException(
                "MS-SQL at %s has a table %r in several schemas (%s): give it as schema.%s"
                % (session.where, table, ", ".join(str(s) for s in schemas), table))
    else:
        columns = sql.mysql_columns(rows)
    step.logger.info("%s at %s: %s has %d column%s"
                     % (dialect.label, session.where, table, len(columns), "" if len(columns) == 1 else "s"))
    return columns
