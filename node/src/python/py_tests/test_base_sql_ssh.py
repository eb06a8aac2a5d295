"""The Base Steps pack's SQL steps (MySQL and MS-SQL Select/Insert/Describe)
and SSH Command, with fake driver modules put in ``sys.modules``: the
tests check the exact statements and parameters the steps send, what they
save, and how they fail.  ``util.sql`` is checked on its own first."""

import base64
import datetime
import decimal
import hashlib
import importlib
import os
import sys
import types
import uuid

import pytest

from base_steps_syncpack.util import drivers, sql
from helpers import PY_DIR_STEPS, run, step_source, up
from ipaascommon import ipaas_exceptions
from ipaascore import BaseStep as basestep_module


def pack_step(name):
    with open(os.path.join(PY_DIR_STEPS, name + ".py")) as f:
        return f.read()


def saved(response):
    import pickle
    assert response["ok"], response
    return pickle.loads(response["pickle"])


def failed(response, error_type="StepFailedException"):
    assert response["ok"] is False, response
    assert response["error_type"] == error_type, response
    return response["message"]


def instance(module_name, class_name, parameters, upstream=None):
    """The pack's step class, imported as packs import it, created with a
    context holding ``parameters`` (to call ``execute`` directly and look
    at what it saved before failing)."""
    module = importlib.import_module("base_steps_syncpack.steps." + module_name)
    context = basestep_module.StepContext(step_name=class_name, parameters=parameters,
                                          upstream=upstream)
    with basestep_module._creating_with(context):
        return getattr(module, class_name)()


# =================================================================== util.sql
@pytest.mark.parametrize("dialect,expected", [(sql.MYSQL, "`device_name`"), (sql.MSSQL, "[device_name]")])
def test_identifiers_are_quoted_per_dialect(dialect, expected):
    assert sql.quote_identifier("device_name", dialect) == expected


def test_table_names_may_be_qualified():
    assert sql.quote_table("inventory.devices", sql.MYSQL) == "`inventory`.`devices`"
    assert sql.quote_table("dbo.devices", sql.MSSQL) == "[dbo].[devices]"
    assert sql.quote_table("inv.dbo.devices", sql.MSSQL) == "[inv].[dbo].[devices]"
    assert sql.quote_table(" Gerät_$1 ", sql.MYSQL) == "`Gerät_$1`"
    with pytest.raises(sql.InvalidIdentifier, match="more than 2 dotted parts"):
        sql.quote_table("a.b.c", sql.MYSQL)
    with pytest.raises(sql.InvalidIdentifier, match="table name is empty"):
        sql.quote_table("", sql.MYSQL)
    with pytest.raises(sql.InvalidIdentifier, match="table name part is empty"):
        sql.quote_table("inventory.", sql.MYSQL)


@pytest.mark.parametrize("name", [
    "x; DROP TABLE y", "a`b", "a]b", "a b", "1st", "name--", "a.b", "", "é'", "col\n",
])
@pytest.mark.parametrize("dialect", [sql.MYSQL, sql.MSSQL])
def test_names_that_are_not_plain_identifiers_are_refused(name, dialect):
    with pytest.raises(sql.InvalidIdentifier) as info:
        sql.quote_identifier(name, dialect)
    assert "column name" in str(info.value)


def test_the_refusal_explains_itself():
    with pytest.raises(sql.InvalidIdentifier) as info:
        sql.insert_statement(sql.MYSQL, "devices", ["id", "x; DROP TABLE y"])
    assert str(info.value) == (
        "the column name 'x; DROP TABLE y' is not a plain SQL identifier: use letters, digits, _ and $ "
        "only, not starting with a digit; the statement was not sent")
    with pytest.raises(sql.InvalidIdentifier, match="longer than the 64 characters MySQL allows"):
        sql.quote_identifier("c" * 65, sql.MYSQL)
    assert sql.quote_identifier("c" * 65, sql.MSSQL) == "[%s]" % ("c" * 65)
    with pytest.raises(sql.InvalidIdentifier, match="must be text, got int 7"):
        sql.quote_identifier(7, sql.MYSQL)


def test_insert_statements():
    assert sql.insert_statement(sql.MYSQL, "inventory.devices", ["id", "name", "ip"]) == (
        "INSERT INTO `inventory`.`devices` (`id`, `name`, `ip`) VALUES (%s, %s, %s)")
    assert sql.insert_statement(sql.MSSQL, "dbo.devices", ["id", "name"]) == (
        "INSERT INTO [dbo].[devices] ([id], [name]) VALUES (%s, %s)")
    with pytest.raises(sql.InvalidIdentifier, match="table name 'devices; --'"):
        sql.insert_statement(sql.MYSQL, "devices; --", ["id"])


def test_rows_for_insert_take_the_columns_from_the_records():
    columns, rows = sql.rows_for_insert(
        [{"id": 1, "name": "sw1", "tags": ["core"]}, {"name": "sw2", "id": 2, "tags": {"site": "par"}}],
        sql.MYSQL)
    assert columns == ["id", "name", "tags"]
    # Values follow the column order, whatever each record's key order;
    # structured values go as JSON text.
    assert rows == [(1, "sw1", '["core"]'), (2, "sw2", '{"site": "par"}')]
    assert sql.rows_for_insert({"id": 9}, sql.MSSQL) == (["id"], [(9,)])
    assert sql.rows_for_insert([], sql.MYSQL) == ([], [])


def test_rows_for_insert_refuse_what_is_not_uniform_records():
    with pytest.raises(sql.InvalidRows) as info:
        sql.rows_for_insert([{"id": 1, "name": "a"}, {"id": 2, "site": "b"}], sql.MYSQL)
    assert str(info.value) == "row 1 does not have the columns of row 0 (id, name): it lacks name and has site too"
    with pytest.raises(sql.InvalidRows, match="row 1 is a str, not a record"):
        sql.rows_for_insert([{"id": 1}, "two"], sql.MYSQL)
    with pytest.raises(sql.InvalidRows, match="got str"):
        sql.rows_for_insert("id=1", sql.MYSQL)
    with pytest.raises(sql.InvalidRows, match="row 0 is an empty record"):
        sql.rows_for_insert([{}], sql.MYSQL)
    with pytest.raises(sql.InvalidIdentifier, match="'x; DROP TABLE y'"):
        sql.rows_for_insert([{"id": 1, "x; DROP TABLE y": 2}], sql.MSSQL)


def test_query_parameters():
    assert sql.query_parameters(None) is None
    assert sql.query_parameters("") is None
    assert sql.query_parameters(["a", 1]) == ["a", 1]
    assert sql.query_parameters(("a",)) == ["a"]
    assert sql.query_parameters({"site": "par"}) == {"site": "par"}
    assert sql.query_parameters('["a", 2]') == ["a", 2]
    assert sql.query_parameters('{"x": 1}') == {"x": 1}
    assert sql.query_parameters("paris") == ["paris"]
    assert sql.query_parameters(5) == [5]
    with pytest.raises(ValueError, match="query_params is not valid JSON"):
        sql.query_parameters("[1, ")


def test_values_are_normalised_for_json():
    n = sql.normalise_value
    assert n(decimal.Decimal("12.50")) == 12.5 and isinstance(n(decimal.Decimal("12.50")), float)
    assert n(decimal.Decimal("0.1")) == 0.1
    assert n(decimal.Decimal("12345678901234567890.123")) == "12345678901234567890.123"
    assert n(decimal.Decimal("NaN")) == "NaN"
    assert n(datetime.datetime(2024, 3, 1, 12, 30, 5)) == "2024-03-01T12:30:05"
    assert n(datetime.date(2024, 3, 1)) == "2024-03-01"
    assert n(datetime.time(7, 5)) == "07:05:00"
    assert n(datetime.timedelta(hours=30, minutes=2, seconds=1)) == "30:02:01"
    assert n(datetime.timedelta(seconds=-61)) == "-0:01:01"
    assert n(datetime.timedelta(seconds=1, microseconds=5)) == "0:00:01.000005"
    assert n(b"caf\xc3\xa9") == "café"
    assert n(bytearray(b"\xff\x00\x01")) == base64.b64encode(b"\xff\x00\x01").decode()
    assert n(memoryview(b"ok")) == "ok"
    u = uuid.UUID("12345678-1234-5678-1234-567812345678")
    assert n(u) == "12345678-1234-5678-1234-567812345678"
    assert n({"b", "a"}) == ["a", "b"]
    assert [n(v) for v in (None, True, 3, 2.5, "x")] == [None, True, 3, 2.5, "x"]


def test_rows_become_dicts_and_repeated_names_are_kept_apart():
    description = [("id", 3), ("id", 3), ("", 253), ("id", 3)]
    names = sql.column_names(description)
    assert names == ["id", "id_2", "column_3", "id_3"]
    rows = sql.rows_as_dicts(names, [(1, 2, b"x", decimal.Decimal("1.5"))])
    assert rows == [{"id": 1, "id_2": 2, "column_3": "x", "id_3": 1.5}]
    assert sql.rows_as_dicts([], [{"n": datetime.date(2020, 1, 2)}]) == [{"n": "2020-01-02"}]


def test_describe_queries_and_results():
    assert sql.mysql_describe_statement("inv.devices") == "SHOW COLUMNS FROM `inv`.`devices`"
    with pytest.raises(sql.InvalidIdentifier):
        sql.mysql_describe_statement("devices`; DROP TABLE x")
    assert sql.mysql_columns([("id", "int(11)", "NO", "PRI", None, "auto_increment"),
                              ("name", "varchar(64)", "YES", "", "x", "")]) == [
        {"name": "id", "type": "int(11)", "null": False, "key": "PRI", "default": None,
         "extra": "auto_increment"},
        {"name": "name", "type": "varchar(64)", "null": True, "key": "", "default": "x", "extra": ""},
    ]
    statement, params = sql.mssql_describe_statement("devices")
    assert params == ["devices"]
    assert statement.startswith("SELECT c.TABLE_SCHEMA, c.COLUMN_NAME")
    assert statement.endswith("FROM INFORMATION_SCHEMA.COLUMNS c WHERE c.TABLE_NAME = %s "
                              "ORDER BY c.TABLE_SCHEMA, c.ORDINAL_POSITION")
    assert "devices" not in statement
    statement, params = sql.mssql_describe_statement("dbo.devices")
    assert params == ["devices", "dbo"]
    assert "WHERE c.TABLE_NAME = %s AND c.TABLE_SCHEMA = %s ORDER BY" in statement
    with pytest.raises(sql.InvalidIdentifier, match="set db_name to 'inv'"):
        sql.mssql_describe_statement("inv.dbo.devices")
    assert sql.mssql_type("nvarchar", -1) == "nvarchar(max)"
    assert sql.mssql_type("VARCHAR", 50) == "varchar(50)"
    assert sql.mssql_type("decimal", None, 10, 2) == "decimal(10,2)"
    assert sql.mssql_type("int", None, 10, 0) == "int"


def test_drivers_hide_secrets():
    assert drivers.hide("login admin/pa55w0rd failed", "pa55w0rd", None, "") == "login admin/****** failed"
    assert drivers.describe_error(ValueError(""), "x") == "ValueError"


# ============================================================ fake DB drivers
NO_PARAMS = "<no params>"


class FakeCursor:
    def __init__(self, connection):
        self.connection = connection
        self.description = None
        self.rows = []
        self.closed = False

    def _answer(self):
        driver = self.connection.driver
        if driver.fail_statement is not None:
            raise driver.Error(driver.fail_statement)
        if driver.answers:
            self.description, self.rows = driver.answers.pop(0)
        else:
            self.description, self.rows = None, []

    def execute(self, statement, params=NO_PARAMS):
        self.connection.driver.executed.append(("execute", statement, params))
        self._answer()

    def executemany(self, statement, rows):
        self.connection.driver.executed.append(("executemany", statement, list(rows)))
        self._answer()

    def fetchall(self):
        return list(self.rows)

    def close(self):
        self.closed = True


class FakeConnection:
    def __init__(self, driver, arguments):
        self.driver = driver
        self.arguments = arguments
        self.events = []

    def cursor(self):
        return FakeCursor(self)

    def commit(self):
        self.events.append("commit")

    def rollback(self):
        self.events.append("rollback")

    def close(self):
        self.events.append("close")


def fake_driver(name, answers=None):
    """A DB-API module: ``connect`` records its arguments; cursors record
    what they execute and answer ``answers`` ([(description, rows)]) in turn."""
    driver = types.ModuleType(name)

    class Error(Exception):
        pass

    class OperationalError(Error):
        pass

    driver.Error = Error
    driver.OperationalError = OperationalError
    driver.answers = list(answers or [])
    driver.executed = []
    driver.connections = []
    driver.fail_connect = None
    driver.fail_statement = None

    def connect(**arguments):
        if driver.fail_connect is not None:
            raise OperationalError(driver.fail_connect)
        connection = FakeConnection(driver, arguments)
        driver.connections.append(connection)
        return connection

    driver.connect = connect
    return driver


@pytest.fixture
def pymysql(monkeypatch):
    driver = fake_driver("pymysql")
    monkeypatch.setitem(sys.modules, "pymysql", driver)
    return driver


@pytest.fixture
def pymssql(monkeypatch):
    driver = fake_driver("pymssql")
    monkeypatch.setitem(sys.modules, "pymssql", driver)
    return driver


MYSQL = {"db_host": "db.example", "db_name": "inventory", "user": "reader", "password": "Sup3r-s3cret"}
MSSQL = {"db_host": "mssql.example", "db_name": "inventory", "user": "sa", "password": "Sup3r-s3cret"}


def all_log_text(host):
    return "\n".join(r.message for r in host.records)


# ================================================================ MySQL steps
def test_mysql_select_sends_the_query_with_its_parameters_and_saves_dict_rows(pymysql, host):
    pymysql.answers = [([("id",), ("name",), ("price",), ("seen",), ("raw",)],
                        [(1, "sw1", decimal.Decimal("10.25"), datetime.datetime(2024, 5, 1, 8, 0), b"\x00\xff"),
                         (2, "sw2", decimal.Decimal("99999999999999999.99"), None, b"ok")])]
    response = run(pack_step("MySqlSelect"), parameters=dict(
        MYSQL, query="SELECT id, name, price, seen, raw FROM devices WHERE site = %s AND id > %s",
        query_params=["paris", 0]))
    assert saved(response) == [
        {"id": 1, "name": "sw1", "price": 10.25, "seen": "2024-05-01T08:00:00", "raw": "AP8="},
        {"id": 2, "name": "sw2", "price": "99999999999999999.99", "seen": None, "raw": "ok"},
    ]
    assert pymysql.executed == [
        ("execute", "SELECT id, name, price, seen, raw FROM devices WHERE site = %s AND id > %s", ("paris", 0))]
    (connection,) = pymysql.connections
    assert connection.arguments == {"host": "db.example", "port": 3306, "user": "reader",
                                    "password": "Sup3r-s3cret", "database": "inventory",
                                    "connect_timeout": 30.0, "charset": "utf8mb4"}
    assert connection.events == ["commit", "close"]
    assert "the query returned 2 rows" in all_log_text(host)
    assert "Sup3r-s3cret" not in all_log_text(host)


def test_mysql_select_without_parameters_sends_the_query_alone(pymysql):
    pymysql.answers = [([("n",)], [(3,)])]
    response = run(pack_step("MySqlSelect"), parameters={"db_host": "db", "db_port": "3307",
                                                         "query": "SELECT COUNT(*) AS n FROM t WHERE x LIKE '5%'"})
    assert saved(response) == [{"n": 3}]
    assert pymysql.executed == [("execute", "SELECT COUNT(*) AS n FROM t WHERE x LIKE '5%'", NO_PARAMS)]
    assert pymysql.connections[0].arguments == {"host": "db", "port": 3307, "password": "",
                                                "connect_timeout": 30.0, "charset": "utf8mb4"}


def test_mysql_select_takes_json_text_and_named_parameters(pymysql):
    run(pack_step("MySqlSelect"), parameters=dict(MYSQL, query="SELECT 1 WHERE a = %s", query_params='["x"]'))
    run(pack_step("MySqlSelect"), parameters=dict(MYSQL, query="SELECT 1 WHERE a = %(a)s",
                                                  query_params={"a": "y"}))
    assert [e[2] for e in pymysql.executed] == [("x",), {"a": "y"}]


def test_a_subclass_sets_the_query_then_runs_the_parent(pymysql):
    """As packs extend the base steps: set a parameter's value, call the
    parent's execute(), read what it saved."""
    pymysql.answers = [([("name",)], [("sw1",), ("sw2",)])]
    source = step_source(
        """
        from base_steps_syncpack.steps.MySqlSelect import MySqlSelect

        class DeviceNames(MySqlSelect):
            def __init__(self):
                MySqlSelect.__init__(self)
                self.new_step_parameter(name="site", default_value="paris")

            def execute(self):
                self.parameters["query"].value = "SELECT name FROM devices WHERE site = %s"
                self.parameters["query_params"].value = [self.get_parameter("site")]
                MySqlSelect.execute(self)
                self.save_data_for_next_step([row["name"] for row in self.get_current_saved_data()])
        """
    )
    response = run(source, parameters={"db_host": "db", "query": "unused"})
    assert saved(response) == ["sw1", "sw2"]
    assert pymysql.executed == [("execute", "SELECT name FROM devices WHERE site = %s", ("paris",))]


def test_mysql_insert_inserts_the_upstream_records_with_executemany(pymysql, host):
    records = [{"id": 1, "name": "sw1"}, {"id": 2, "name": "sw2"}]
    response = run(pack_step("MySqlInsert"), upstream=[up("Devices", records)],
                   parameters=dict(MYSQL, table="inventory.devices"))
    assert saved(response) == {"table": "inventory.devices", "inserted": 2}
    assert pymysql.executed == [("executemany",
                                 "INSERT INTO `inventory`.`devices` (`id`, `name`) VALUES (%s, %s)",
                                 [(1, "sw1"), (2, "sw2")])]
    assert pymysql.connections[0].events == ["commit", "close"]
    assert "inserted 2 rows into inventory.devices" in all_log_text(host)


def test_mysql_insert_takes_one_record_and_joins_several_upstream_steps(pymysql):
    response = run(pack_step("MySqlInsert"), upstream=[up("One", {"id": 7, "ok": True})],
                   parameters=dict(MYSQL, table="devices"))
    assert saved(response) == {"table": "devices", "inserted": 1}
    assert pymysql.executed[-1] == ("executemany", "INSERT INTO `devices` (`id`, `ok`) VALUES (%s, %s)",
                                    [(7, True)])
    response = run(pack_step("MySqlInsert"), upstream=[up("A", [{"id": 1}]), up("B", [{"id": 2}])],
                   parameters=dict(MYSQL, table="devices"))
    assert saved(response) == {"table": "devices", "inserted": 2}
    assert pymysql.executed[-1] == ("executemany", "INSERT INTO `devices` (`id`) VALUES (%s)", [(1,), (2,)])


def test_mysql_insert_refuses_a_dangerous_column_before_connecting(pymysql):
    response = run(pack_step("MySqlInsert"), upstream=[up("Devices", [{"id": 1, "x; DROP TABLE y": 1}])],
                   parameters=dict(MYSQL, table="devices"))
    assert "the column name 'x; DROP TABLE y' is not a plain SQL identifier" in failed(response)
    assert pymysql.connections == [] and pymysql.executed == []
    response = run(pack_step("MySqlInsert"), upstream=[up("Devices", [{"id": 1}])],
                   parameters=dict(MYSQL, table="devices WHERE 1=1"))
    assert "the table name 'devices WHERE 1=1' is not a plain SQL identifier" in failed(response)
    assert pymysql.connections == []


def test_mysql_insert_without_records(pymysql):
    response = run(pack_step("MySqlInsert"), parameters=dict(MYSQL, table="devices"))
    assert failed(response, "MissingRequiredData") == (
        "nothing to insert into 'devices': the previous steps saved no records")
    response = run(pack_step("MySqlInsert"), upstream=[up("Empty", [])], parameters=dict(MYSQL, table="devices"))
    assert saved(response) == {"table": "devices", "inserted": 0}
    assert pymysql.connections == []


def test_mysql_describe_saves_the_columns(pymysql):
    pymysql.answers = [([("Field",), ("Type",), ("Null",), ("Key",), ("Default",), ("Extra",)],
                        [("id", "int(11)", "NO", "PRI", None, "auto_increment"),
                         ("site", "varchar(32)", "YES", "MUL", "paris", "")])]
    response = run(pack_step("MySqlDescribe"), parameters=dict(MYSQL, table="devices"))
    assert saved(response) == [
        {"name": "id", "type": "int(11)", "null": False, "key": "PRI", "default": None, "extra": "auto_increment"},
        {"name": "site", "type": "varchar(32)", "null": True, "key": "MUL", "default": "paris", "extra": ""},
    ]
    assert pymysql.executed == [("execute", "SHOW COLUMNS FROM `devices`", NO_PARAMS)]


def test_mysql_connection_errors_name_host_and_port_but_not_the_password(pymysql, host):
    pymysql.fail_connect = "(1045, \"Access denied for user 'reader' (using password: Sup3r-s3cret)\")"
    response = run(pack_step("MySqlSelect"), parameters=dict(MYSQL, db_port=3310, query="SELECT 1"))
    message = failed(response)
    assert message.startswith("cannot connect to MySQL at db.example:3310 as 'reader': (1045, ")
    assert "Access denied for user 'reader'" in message
    assert "Sup3r-s3cret" not in message
    assert "Sup3r-s3cret" not in response["traceback"]
    assert "Sup3r-s3cret" not in all_log_text(host)


def test_direct_session_error_hides_the_password_itself(pymysql):
    """Masking does not rely on the runner: the step's own message hides it."""
    from base_steps_syncpack.util import db
    pymysql.fail_connect = "bad password pw-123456"
    step = instance("MySqlSelect", "MySqlSelect", {"db_host": "h", "password": "pw-123456", "query": "SELECT 1"})
    with pytest.raises(ipaas_exceptions.StepFailedException) as info:
        db.run_select(step, sql.MYSQL)
    assert str(info.value) == "cannot connect to MySQL at h:3306: bad password ******"


def test_a_failing_statement_is_rolled_back_and_quoted(pymysql):
    pymysql.fail_statement = "(1146, \"Table 'inventory.nope' doesn't exist\")"
    response = run(pack_step("MySqlSelect"), parameters=dict(MYSQL, query="SELECT * FROM nope"))
    assert failed(response) == (
        "MySQL at db.example:3306/inventory could not run the statement: "
        "(1146, \"Table 'inventory.nope' doesn't exist\") (statement: SELECT * FROM nope)")
    assert pymysql.connections[0].events == ["rollback", "close"]


def test_the_database_host_is_required(pymysql):
    response = run(pack_step("MySqlSelect"), parameters={"query": "SELECT 1"})
    assert "db_host" in failed(response, "MissingRequiredStepParameter")
    assert pymysql.connections == []


@pytest.mark.parametrize("step,module,message", [
    ("MySqlSelect", "pymysql", "the MySQL driver is not installed in this environment: pip install PyMySQL"),
    ("MySqlDescribe", "pymysql", "the MySQL driver is not installed in this environment: pip install PyMySQL"),
    ("MsSqlSelect", "pymssql", "the MS-SQL driver is not installed in this environment: pip install pymssql"),
    ("MsSqlInsert", "pymssql", "the MS-SQL driver is not installed in this environment: pip install pymssql"),
])
def test_a_missing_driver_fails_clearly(monkeypatch, step, module, message):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` raise ImportError
    parameters = {"db_host": "db", "query": "SELECT 1", "table": "t"}
    response = run(pack_step(step), parameters=parameters, upstream=[up("Rows", [{"id": 1}])])
    text = failed(response)
    assert text.startswith(message), text
    assert "importing '%s' failed" % module in text


# =============================================================== MS-SQL steps
def test_mssql_select_connects_with_pymssql_arguments(pymssql):
    pymssql.answers = [([("id", 3), ("guid", 2)], [(1, uuid.UUID(int=1))])]
    response = run(pack_step("MsSqlSelect"), parameters=dict(
        MSSQL, query="SELECT id, guid FROM dbo.devices WHERE site = %s", query_params=["par"], timeout=5))
    assert saved(response) == [{"id": 1, "guid": "00000000-0000-0000-0000-000000000001"}]
    assert pymssql.executed == [("execute", "SELECT id, guid FROM dbo.devices WHERE site = %s", ("par",))]
    assert pymssql.connections[0].arguments == {"server": "mssql.example", "port": "1433", "user": "sa",
                                                "password": "Sup3r-s3cret", "database": "inventory",
                                                "login_timeout": 5}
    assert pymssql.connections[0].events == ["commit", "close"]


def test_mssql_insert_quotes_with_brackets(pymssql):
    records = [{"id": 1, "when": datetime.date(2024, 1, 2)}]
    response = run(pack_step("MsSqlInsert"), upstream=[up("Devices", records)],
                   parameters=dict(MSSQL, table="dbo.devices"))
    assert saved(response) == {"table": "dbo.devices", "inserted": 1}
    assert pymssql.executed == [("executemany", "INSERT INTO [dbo].[devices] ([id], [when]) VALUES (%s, %s)",
                                 [(1, datetime.date(2024, 1, 2))])]
    response = run(pack_step("MsSqlInsert"), upstream=[up("Devices", [{"id]; DROP TABLE t; --": 1}])],
                   parameters=dict(MSSQL, table="devices"))
    assert "is not a plain SQL identifier" in failed(response)
    assert len(pymssql.executed) == 1


def mssql_row(schema, name, kind, length=None, precision=None, scale=None, nullable="YES", default=None,
              key=None, identity=0, computed=0):
    return (schema, name, kind, length, precision, scale, None, nullable, default, key, identity, computed)


def test_mssql_describe_binds_the_table_name(pymssql):
    pymssql.answers = [([("TABLE_SCHEMA",)], [
        mssql_row("dbo", "id", "int", precision=10, scale=0, nullable="NO", key="PRI", identity=1),
        mssql_row("dbo", "name", "nvarchar", length=-1),
        mssql_row("dbo", "price", "decimal", precision=10, scale=2, default="((0))"),
        mssql_row("dbo", "code", "varchar", length=8, nullable="NO", key="UNI", computed=1),
    ])]
    response = run(pack_step("MsSqlDescribe"), parameters=dict(MSSQL, table="dbo.devices"))
    assert saved(response) == [
        {"name": "id", "type": "int", "null": False, "key": "PRI", "default": None, "extra": "identity"},
        {"name": "name", "type": "nvarchar(max)", "null": True, "key": "", "default": None, "extra": ""},
        {"name": "price", "type": "decimal(10,2)", "null": True, "key": "", "default": "((0))", "extra": ""},
        {"name": "code", "type": "varchar(8)", "null": False, "key": "UNI", "default": None, "extra": "computed"},
    ]
    ((kind, statement, params),) = pymssql.executed
    assert kind == "execute"
    assert statement == sql.mssql_describe_statement("dbo.devices")[0]
    assert params == ("devices", "dbo")


def test_mssql_describe_fails_on_a_missing_or_ambiguous_table(pymssql):
    pymssql.answers = [([("TABLE_SCHEMA",)], [])]
    response = run(pack_step("MsSqlDescribe"), parameters=dict(MSSQL, table="nope"))
    assert failed(response) == ("MS-SQL at mssql.example:1433/inventory has no table 'nope' "
                                "(or the user cannot see it)")
    pymssql.answers = [([("TABLE_SCHEMA",)], [mssql_row("dbo", "id", "int"), mssql_row("audit", "id", "int")])]
    response = run(pack_step("MsSqlDescribe"), parameters=dict(MSSQL, table="devices"))
    assert failed(response) == ("MS-SQL at mssql.example:1433/inventory has a table 'devices' in several "
                                "schemas (dbo, audit): give it as schema.devices")


def test_mssql_connection_errors(pymssql):
    pymssql.fail_connect = "Adaptive Server is unavailable or does not exist"
    response = run(pack_step("MsSqlDescribe"), parameters=dict(MSSQL, table="devices", db_port=14330))
    assert failed(response) == ("cannot connect to MS-SQL at mssql.example:14330 as 'sa': "
                                "Adaptive Server is unavailable or does not exist")


# ============================================================ fake paramiko
class FakeKey:
    def __init__(self, blob=b"fake host key blob", kind="ssh-ed25519"):
        self.blob = blob
        self.kind = kind

    def asbytes(self):
        return self.blob

    def get_name(self):
        return self.kind


class FakeChannel:
    """Hands out ``stdout``/``stderr`` chunks, then reports ``exit_code``
    (never, when ``exit_code`` is None)."""

    def __init__(self, stdout=(), stderr=(), exit_code=0):
        self.stdout = list(stdout)
        self.stderr = list(stderr)
        self.exit_code = exit_code
        self.events = []

    def shutdown_write(self):
        self.events.append("shutdown_write")

    def recv_ready(self):
        return bool(self.stdout)

    def recv(self, size):
        return self.stdout.pop(0)[:size]

    def recv_stderr_ready(self):
        return bool(self.stderr)

    def recv_stderr(self, size):
        return self.stderr.pop(0)[:size]

    def exit_status_ready(self):
        return self.exit_code is not None and not self.stdout and not self.stderr

    def recv_exit_status(self):
        return self.exit_code

    def close(self):
        self.events.append("close")


def fake_paramiko(channel=None, host_key=None, connect_error=None):
    module = types.ModuleType("paramiko")

    class SSHException(Exception):
        pass

    class AuthenticationException(SSHException):
        pass

    class PasswordRequiredException(AuthenticationException):
        pass

    class AutoAddPolicy:
        def missing_host_key(self, client, hostname, key):
            client.added_keys.append((hostname, key.get_name()))

    class RSAKey:
        def __init__(self, text):
            self.text = text

        @classmethod
        def from_private_key(cls, file_obj, password=None):
            text = file_obj.read()
            if not text.startswith("-----BEGIN RSA PRIVATE KEY-----\n"):
                raise SSHException("not a valid RSA private key file")
            if "ENCRYPTED" in text and password is None:
                raise PasswordRequiredException("Private key file is encrypted")
            return cls(text)

    class Ed25519Key:
        @classmethod
        def from_private_key(cls, file_obj, password=None):
            raise SSHException("not a valid OPENSSH private key file")

    class SSHClient:
        def __init__(self):
            self.policy = None
            self.added_keys = []
            self.connected = None
            self.commands = []
            self.closed = False
            module.clients.append(self)

        def set_missing_host_key_policy(self, policy):
            self.policy = policy

        def connect(self, hostname, **kwargs):
            if connect_error is not None:
                raise connect_error(module)
            self.policy.missing_host_key(self, hostname, module.host_key)
            self.connected = dict(kwargs, hostname=hostname)

        def exec_command(self, command, timeout=None):
            self.commands.append((command, timeout))
            stdout = types.SimpleNamespace(channel=module.channel)
            return object(), stdout, object()

        def close(self):
            self.closed = True

    module.SSHException = SSHException
    module.AuthenticationException = AuthenticationException
    module.PasswordRequiredException = PasswordRequiredException
    module.AutoAddPolicy = AutoAddPolicy
    module.RSAKey = RSAKey
    module.Ed25519Key = Ed25519Key
    module.SSHClient = SSHClient
    module.clients = []
    module.channel = channel or FakeChannel()
    module.host_key = host_key or FakeKey()
    return module


SSH = {"host": "10.2.11.40", "user": "admin", "password": "Ssh-pa55word", "command": "uptime"}


def sha256_of(blob):
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def test_ssh_command_saves_exit_code_and_output(monkeypatch, host):
    channel = FakeChannel(stdout=[b"up 3 days,", b" load 0.1\n"], stderr=[b"warn\n"], exit_code=0)
    paramiko = fake_paramiko(channel)
    monkeypatch.setitem(sys.modules, "paramiko", paramiko)
    response = run(pack_step("SSHCommand"), parameters=dict(SSH))
    assert saved(response) == {"exit_code": 0, "stdout": "up 3 days, load 0.1\n", "stderr": "warn\n"}
    (client,) = paramiko.clients
    assert client.connected == {"hostname": "10.2.11.40", "port": 22, "username": "admin",
                                "password": "Ssh-pa55word", "pkey": None, "timeout": 60.0,
                                "banner_timeout": 60.0, "auth_timeout": 60.0,
                                "look_for_keys": False, "allow_agent": False}
    assert client.commands == [("uptime", 60.0)]
    assert client.added_keys == [("10.2.11.40", "ssh-ed25519")]
    assert client.closed
    assert channel.events == ["shutdown_write"]
    warnings = host.messages(module="SSHCommand", levelno=30)
    assert warnings == ["accepting the unverified host key of 10.2.11.40:22: ssh-ed25519 %s "
                        "(set host_fingerprint to check it)" % sha256_of(b"fake host key blob")]
    assert "Ssh-pa55word" not in all_log_text(host)


def test_a_non_zero_exit_fails_after_saving(monkeypatch):
    monkeypatch.setitem(sys.modules, "paramiko",
                        fake_paramiko(FakeChannel(stdout=[b"partial"], stderr=[b"disk full\n"], exit_code=2)))
    response = run(pack_step("SSHCommand"), parameters=dict(SSH, command="backup.sh"))
    assert failed(response) == "the command exited with code 2 on admin@10.2.11.40:22: disk full"
    step = instance("SSHCommand", "SSHCommand", dict(SSH, command="backup.sh"))
    monkeypatch.setitem(sys.modules, "paramiko",
                        fake_paramiko(FakeChannel(stdout=[b"partial"], stderr=[b"disk full\n"], exit_code=2)))
    with pytest.raises(ipaas_exceptions.StepFailedException):
        step.execute()
    assert step.get_current_saved_data() == {"exit_code": 2, "stdout": "partial", "stderr": "disk full\n"}


@pytest.mark.parametrize("value", ["true", "True", "yes", True, "1"])
def test_allow_failure_keeps_a_non_zero_exit_a_success(monkeypatch, host, value):
    monkeypatch.setitem(sys.modules, "paramiko", fake_paramiko(FakeChannel(stderr=[b"no such file"], exit_code=1)))
    response = run(pack_step("SSHCommand"), parameters=dict(SSH, command="ls /x", allow_failure=value))
    assert saved(response) == {"exit_code": 1, "stdout": "", "stderr": "no such file"}
    assert "the command exited with code 1 on admin@10.2.11.40:22 (allowed by allow_failure)" in \
        host.messages(levelno=30)


def test_allow_failure_false_and_nonsense(monkeypatch):
    monkeypatch.setitem(sys.modules, "paramiko", fake_paramiko(FakeChannel(exit_code=1)))
    assert failed(run(pack_step("SSHCommand"), parameters=dict(SSH, allow_failure="false"))) == (
        "the command exited with code 1 on admin@10.2.11.40:22")
    message = failed(run(pack_step("SSHCommand"), parameters=dict(SSH, allow_failure="maybe")),
                     "InvalidStepParameter")
    assert message.startswith("allow_failure: cannot interpret 'maybe' as a boolean")


RSA_TEXT = "-----BEGIN RSA PRIVATE KEY-----\nMIIEfake\n-----END RSA PRIVATE KEY-----\n"


def test_a_private_key_logs_in_instead_of_a_password(monkeypatch, host):
    paramiko = fake_paramiko(FakeChannel(stdout=[b"ok"]))
    monkeypatch.setitem(sys.modules, "paramiko", paramiko)
    escaped = RSA_TEXT.replace("\n", "\\n")  # as a JSON configuration value may hold it
    response = run(pack_step("SSHCommand"), parameters={"host": "h", "port": "2222", "user": "u",
                                                        "private_key": escaped, "command": "id", "timeout": 5})
    assert saved(response)["stdout"] == "ok"
    connected = paramiko.clients[0].connected
    assert connected["password"] is None and connected["port"] == 2222 and connected["timeout"] == 5.0
    assert isinstance(connected["pkey"], paramiko.RSAKey) and connected["pkey"].text == RSA_TEXT
    assert "MIIEfake" not in all_log_text(host)


def test_private_key_problems(monkeypatch):
    monkeypatch.setitem(sys.modules, "paramiko", fake_paramiko())
    encrypted = RSA_TEXT.replace("MIIEfake", "Proc-Type: 4,ENCRYPTED\nMIIEfake")
    response = run(pack_step("SSHCommand"), parameters=dict(SSH, password=None, private_key=encrypted))
    assert failed(response) == "private_key is encrypted: set passphrase"
    response = run(pack_step("SSHCommand"), parameters=dict(SSH, password=None, private_key="garbage-key-text"))
    message = failed(response)
    assert message == ("private_key is not a private key paramiko can read (PEM or OpenSSH text): "
                       "Ed25519Key: not a valid OPENSSH private key file; "
                       "RSAKey: not a valid RSA private key file")
    response = run(pack_step("SSHCommand"), parameters=dict(SSH, password=None))
    message = failed(response, "MissingRequiredStepParameter")
    assert message == "step 'SSHCommand' needs password or private_key to log in to admin@10.2.11.40:22"


def test_ssh_connection_failures(monkeypatch, host):
    monkeypatch.setitem(sys.modules, "paramiko", fake_paramiko(
        connect_error=lambda m: m.AuthenticationException("Authentication failed.")))
    response = run(pack_step("SSHCommand"), parameters=dict(SSH))
    assert failed(response) == "SSH authentication failed for admin@10.2.11.40:22: Authentication failed."
    monkeypatch.setitem(sys.modules, "paramiko", fake_paramiko(
        connect_error=lambda m: OSError("[Errno 111] Connection refused (tried with Ssh-pa55word)")))
    response = run(pack_step("SSHCommand"), parameters=dict(SSH, port=2200))
    assert failed(response) == ("cannot connect over SSH to 10.2.11.40:2200: "
                                "[Errno 111] Connection refused (tried with ******)")
    assert "Ssh-pa55word" not in all_log_text(host)


def test_a_host_fingerprint_is_checked_when_given(monkeypatch, host):
    key = FakeKey(b"the real key")
    paramiko = fake_paramiko(FakeChannel(stdout=[b"ok"]), host_key=key)
    monkeypatch.setitem(sys.modules, "paramiko", paramiko)
    response = run(pack_step("SSHCommand"), parameters=dict(SSH, host_fingerprint=sha256_of(b"the real key")))
    assert saved(response)["stdout"] == "ok"
    assert host.messages(levelno=30) == []
    md5 = hashlib.md5(b"the real key").hexdigest()
    md5_colons = ":".join(md5[i:i + 2] for i in range(0, 32, 2)).upper()
    paramiko = fake_paramiko(FakeChannel(stdout=[b"md5 ok"]), host_key=key)
    monkeypatch.setitem(sys.modules, "paramiko", paramiko)
    response = run(pack_step("SSHCommand"), parameters=dict(SSH, host_fingerprint="MD5:" + md5_colons))
    assert saved(response)["stdout"] == "md5 ok"
    assert host.messages(levelno=30) == []

    # Another key: the policy raises paramiko's SSHException from connect.
    paramiko = fake_paramiko(host_key=key)
    monkeypatch.setitem(sys.modules, "paramiko", paramiko)
    response = run(pack_step("SSHCommand"), parameters=dict(SSH, host_fingerprint="SHA256:somethingelse"))
    assert failed(response) == (
        "cannot connect over SSH to 10.2.11.40:22: the host key of 10.2.11.40:22 is ssh-ed25519 %s, "
        "not the expected host_fingerprint SHA256:somethingelse" % sha256_of(b"the real key"))
    assert paramiko.clients[0].added_keys == []


def test_a_command_that_runs_too_long_is_stopped(monkeypatch):
    channel = FakeChannel(stdout=[b"started\n"], exit_code=None)
    monkeypatch.setitem(sys.modules, "paramiko", fake_paramiko(channel))
    step = instance("SSHCommand", "SSHCommand", dict(SSH, command="sleep 999", timeout="0.1"))
    with pytest.raises(ipaas_exceptions.StepFailedException) as info:
        step.execute()
    assert str(info.value) == "the command did not finish within 0.1 seconds on admin@10.2.11.40:22"
    assert step.get_current_saved_data() == {"exit_code": None, "stdout": "started\n", "stderr": ""}
    assert channel.events == ["shutdown_write", "close"]


def test_output_beyond_the_limit_is_dropped(monkeypatch):
    module = importlib.import_module("base_steps_syncpack.steps.SSHCommand")
    monkeypatch.setattr(module, "MAX_OUTPUT", 5)
    output = module._Output()
    output.add(b"abc")
    output.add(b"defg")
    output.add(b"h")
    assert (bytes(output.data), output.dropped) == (b"abcde", 3)


def test_a_missing_ssh_library_fails_clearly(monkeypatch):
    monkeypatch.setitem(sys.modules, "paramiko", None)
    message = failed(run(pack_step("SSHCommand"), parameters=dict(SSH)))
    assert message.startswith("the SSH client library (paramiko) is not installed in this environment: "
                              "pip install paramiko")


# ============================================================= the pack lists
@pytest.mark.parametrize("name", ["MySqlSelect", "MySqlInsert", "MySqlDescribe", "MsSqlSelect", "MsSqlInsert",
                                  "MsSqlDescribe", "SSHCommand"])
def test_each_step_module_defines_its_class_and_loads_without_drivers(monkeypatch, name):
    for module in ("pymysql", "pymssql", "paramiko"):
        monkeypatch.setitem(sys.modules, module, None)
    source = pack_step(name)
    assert "class %s(" % name in source
    step = instance(name, name, {})
    assert step.friendly_name and step.description and step.version == "1.0.0"
    assert type(step).__name__ == name
