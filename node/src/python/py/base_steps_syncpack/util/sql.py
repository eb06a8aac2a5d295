"""Building SQL for the MySQL and MS-SQL steps, without a server.

Everything here is plain Python so it can be checked without a database:

* ``Dialect``: what differs between the two servers (identifier quotes,
  driver module, default port); ``MYSQL`` and ``MSSQL`` are the two we know.
* ``quote_identifier`` / ``quote_table``: refuse any name that is not a plain
  identifier (letters, digits, ``_`` and ``$``), then quote it.  Names are
  never escaped into shape: a name that needs escaping is an error, so no
  text taken from the data can change what a statement does.
* ``insert_statement`` and ``rows_for_insert``: the statement and the
  parameter rows ``executemany`` receives for a list of records.
* ``normalise_value`` / ``rows_as_dicts``: what a driver answers, turned into
  values that read well as JSON (and pickle anywhere).
* ``query_parameters``: the ``query_params`` parameter as the driver wants it.
"""

import base64
import datetime
import decimal
import json
import re
import uuid


class InvalidIdentifier(ValueError):
    """A table or column name that is not a plain SQL identifier."""


class InvalidRows(ValueError):
    """Data that cannot be inserted as rows (not records, or records whose
    columns differ)."""


class Dialect:
    """What one kind of server needs: how names are quoted, which driver
    module talks to it and which pip package provides that module."""

    def __init__(self, key, label, module, pip_name, default_port, open_quote, close_quote,
                 max_identifier_length):
        self.key = key
        self.label = label
        self.module = module
        self.pip_name = pip_name
        self.default_port = default_port
        self.open_quote = open_quote
        self.close_quote = close_quote
        self.max_identifier_length = max_identifier_length

    def quote(self, name):
        return "%s%s%s" % (self.open_quote, name, self.close_quote)

    def __repr__(self):
        return "Dialect(%s)" % self.key


MYSQL = Dialect("mysql", "MySQL", "pymysql", "PyMySQL", 3306, "`", "`", 64)
MSSQL = Dialect("mssql", "MS-SQL", "pymssql", "pymssql", 1433, "[", "]", 128)

# A letter or underscore, then letters, digits, underscores or dollar signs.
# Unicode letters count as letters (both servers accept them).
_PLAIN_NAME = re.compile(r"[^\W\d][\w$]*\Z", re.UNICODE)


def check_identifier(name, dialect, what="name"):
    """``name`` when it is a plain identifier ``dialect`` accepts, else
    ``InvalidIdentifier`` saying what is wrong with it."""
    if not isinstance(name, str):
        raise InvalidIdentifier("the %s must be text, got %s %r" % (what, type(name).__name__, name))
    if not name:
        raise InvalidIdentifier("the %s is empty" % what)
    if len(name) > dialect.max_identifier_length:
        raise InvalidIdentifier(
            "the %s %r is longer than the %d characters %s allows"
            % (what, name, dialect.max_identifier_length, dialect.label))
    if not _PLAIN_NAME.match(name):
        raise InvalidIdentifier(
            "the %s %r is not a plain SQL identifier: use letters, digits, _ and $ only, "
            "not starting with a digit; the statement was not sent" % (what, name))
    return name


def quote_identifier(name, dialect, what="column name"):
    """``name`` checked and quoted for ``dialect`` (`` `name` `` or ``[name]``)."""
    return dialect.quote(check_identifier(name, dialect, what))


def split_table(table, dialect):
    """The parts of a table name: ``"devices"`` -> ``["devices"]``,
    ``"inventory.devices"`` -> ``["inventory", "devices"]`` (MS-SQL also
    takes ``database.schema.table``); each part is checked."""
    if not isinstance(table, str) or not table.strip():
        raise InvalidIdentifier("the table name is empty: set the step's 'table' parameter")
    parts = table.strip().split(".")
    most = 3 if dialect is MSSQL else 2
    if len(parts) > most:
        raise InvalidIdentifier(
            "the table name %r has more than %d dotted parts" % (table, most))
    for part in parts:
        check_identifier(part, dialect, "table name part" if len(parts) > 1 else "table name")
    return parts


def quote_table(table, dialect):
    """A table name (optionally qualified with dots) checked and quoted:
    ``inventory.devices`` -> `` `inventory`.`devices` `` for MySQL."""
    return ".".join(dialect.quote(part) for part in split_table(table, dialect))


def insert_statement(dialect, table, columns):
    """``INSERT INTO <table> (<columns>) VALUES (%s, ...)`` with every name
    checked and quoted; the values are left to the driver."""
    if not columns:
        raise InvalidRows("cannot insert records without columns")
    names = ", ".join(quote_identifier(column, dialect) for column in columns)
    marks = ", ".join(["%s"] * len(columns))
    return "INSERT INTO %s (%s) VALUES (%s)" % (quote_table(table, dialect), names, marks)


def _bindable(value):
    """A record's value as a driver can bind it: structured values (dicts,
    lists) are sent as JSON text; everything else as it is."""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=str)
    return value


def rows_for_insert(data, dialect):
    """``(columns, rows)`` for ``executemany`` from ``data``: one record (a
    dict) or a list of them.  The columns are the first record's keys, in
    order; every record must have exactly those keys.  ``rows`` holds one
    tuple of values per record, in the order of ``columns``."""
    if isinstance(data, dict):
        records = [data]
    elif isinstance(data, (list, tuple)):
        records = list(data)
    else:
        raise InvalidRows(
            "the rows to insert must be a record (a dict) or a list of records, got %s"
            % type(data).__name__)
    if not records:
        return [], []
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise InvalidRows(
                "row %d is a %s, not a record (a dict of column names to values)"
                % (index, type(record).__name__))
    columns = list(records[0].keys())
    if not columns:
        raise InvalidRows("row 0 is an empty record: there are no columns to insert")
    for column in columns:
        check_identifier(column, dialect, "column name")
    expected = set(columns)
    rows = []
    for index, record in enumerate(records):
        if index and set(record.keys()) != expected:
            missing = [c for c in columns if c not in record]
            extra = [str(c) for c in record if c not in expected]
            problems = []
            if missing:
                problems.append("lacks %s" % ", ".join(missing))
            if extra:
                problems.append("has %s too" % ", ".join(extra))
            raise InvalidRows(
                "row %d does not have the columns of row 0 (%s): it %s"
                % (index, ", ".join(columns), " and ".join(problems)))
        rows.append(tuple(_bindable(record[column]) for column in columns))
    return columns, rows


def query_parameters(value):
    """The ``query_params`` parameter as the driver wants it: ``None`` (no
    parameters: the query is sent as it is, ``%`` included), a list for
    ``%s`` markers, or a dict for ``%(name)s`` markers.  JSON text of a list
    or object is parsed; a single other value becomes a one-item list."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text[0] in "[{":
            try:
                value = json.loads(text)
            except ValueError as exc:
                raise ValueError("query_params is not valid JSON: %s" % exc) from None
        else:
            return [value]
    if isinstance(value, dict):
        return dict(value)
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]


# ---------------------------------------------------------------- results
def _decimal(value):
    """A float when the float reads back as the same number, else text
    (so no digit is lost)."""
    if not value.is_finite():
        return str(value)
    as_float = float(value)
    if decimal.Decimal(repr(as_float)) == value:
        return as_float
    return str(value)


def _duration(value):
    """A timedelta (MySQL TIME columns) as ``[-]H:MM:SS[.ffffff]``."""
    total = value.days * 86400 + value.seconds
    sign = ""
    micro = value.microseconds
    if total < 0:
        sign = "-"
        whole = -value
        total = whole.days * 86400 + whole.seconds
        micro = whole.microseconds
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    text = "%s%d:%02d:%02d" % (sign, hours, minutes, seconds)
    if micro:
        text += ".%06d" % micro
    return text


def _binary(value):
    """Bytes as UTF-8 text when they are UTF-8, else as base64 text."""
    raw = bytes(value)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return base64.b64encode(raw).decode("ascii")


def normalise_value(value):
    """One value from a driver, made JSON friendly: ``Decimal`` -> float (or
    text when a float would lose digits), dates and times -> ISO 8601 text,
    ``timedelta`` -> ``H:MM:SS``, bytes -> UTF-8 text (or base64 text),
    ``UUID`` -> text, sets -> sorted lists.  Other values are kept."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, decimal.Decimal):
        return _decimal(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, datetime.timedelta):
        return _duration(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _binary(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(normalise_value(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [normalise_value(v) for v in value]
    if isinstance(value, dict):
        return {k: normalise_value(v) for k, v in value.items()}
    return value


def column_names(description):
    """The column names of a DB-API ``cursor.description``; a name seen
    before gets ``_2``, ``_3``... so no value of a row is lost (``SELECT
    a.id, b.id`` -> ``id``, ``id_2``); unnamed columns are ``column_<n>``."""
    names = []
    seen = set()
    for index, column in enumerate(description or ()):
        name = column[0] if column and column[0] else "column_%d" % (index + 1)
        if isinstance(name, bytes):
            name = name.decode("utf-8", "replace")
        name = str(name)
        candidate = name
        count = 1
        while candidate in seen:
            count += 1
            candidate = "%s_%d" % (name, count)
        seen.add(candidate)
        names.append(candidate)
    return names


def rows_as_dicts(names, rows):
    """Rows (tuples, or dicts from a dict cursor) as a list of dicts of
    ``names`` to normalised values."""
    out = []
    for row in rows or ():
        if isinstance(row, dict):
            out.append({str(k): normalise_value(v) for k, v in row.items()})
        else:
            out.append({name: normalise_value(value) for name, value in zip(names, row)})
    return out


# ---------------------------------------------------------------- describe
def mysql_describe_statement(table):
    """``SHOW COLUMNS FROM <table>`` with the name checked and quoted."""
    return "SHOW COLUMNS FROM %s" % quote_table(table, MYSQL)


def mysql_columns(rows):
    """``SHOW COLUMNS`` rows (Field, Type, Null, Key, Default, Extra) as the
    describe steps' column dicts."""
    columns = []
    for row in rows:
        if isinstance(row, dict):
            row = (row.get("Field"), row.get("Type"), row.get("Null"), row.get("Key"),
                   row.get("Default"), row.get("Extra"))
        name, kind, null, key, default, extra = (list(row) + [None] * 6)[:6]
        columns.append({
            "name": normalise_value(name),
            "type": normalise_value(kind),
            "null": str(normalise_value(null) or "").upper() == "YES",
            "key": normalise_value(key) or "",
            "default": normalise_value(default),
            "extra": normalise_value(extra) or "",
        })
    return columns


# The columns of a table from INFORMATION_SCHEMA, with its primary and
# unique keys and identity/computed columns.  The table (and schema) are
# bound as parameters, never spliced into the text.
MSSQL_DESCRIBE_COLUMNS = (
    "SELECT c.TABLE_SCHEMA, c.COLUMN_NAME, c.DATA_TYPE, c.CHARACTER_MAXIMUM_LENGTH, "
    "c.NUMERIC_PRECISION, c.NUMERIC_SCALE, c.DATETIME_PRECISION, c.IS_NULLABLE, c.COLUMN_DEFAULT, "
    "(SELECT TOP 1 CASE tc.CONSTRAINT_TYPE WHEN 'PRIMARY KEY' THEN 'PRI' ELSE 'UNI' END "
    "FROM INFORMATION_SCHEMA.TABLE_CONSTRAINTS tc "
    "JOIN INFORMATION_SCHEMA.KEY_COLUMN_USAGE k ON k.CONSTRAINT_NAME = tc.CONSTRAINT_NAME "
    "AND k.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA "
    "WHERE tc.TABLE_SCHEMA = c.TABLE_SCHEMA AND tc.TABLE_NAME = c.TABLE_NAME "
    "AND k.COLUMN_NAME = c.COLUMN_NAME AND tc.CONSTRAINT_TYPE IN ('PRIMARY KEY', 'UNIQUE') "
    "ORDER BY CASE tc.CONSTRAINT_TYPE WHEN 'PRIMARY KEY' THEN 0 ELSE 1 END) AS COLUMN_KEY, "
    "COLUMNPROPERTY(OBJECT_ID(QUOTENAME(c.TABLE_SCHEMA) + '.' + QUOTENAME(c.TABLE_NAME)), "
    "c.COLUMN_NAME, 'IsIdentity') AS IS_IDENTITY, "
    "COLUMNPROPERTY(OBJECT_ID(QUOTENAME(c.TABLE_SCHEMA) + '.' + QUOTENAME(c.TABLE_NAME)), "
    "c.COLUMN_NAME, 'IsComputed') AS IS_COMPUTED "
    "FROM INFORMATION_SCHEMA.COLUMNS c "
    "WHERE c.TABLE_NAME = %s"
)


def mssql_describe_statement(table):
    """``(sql, params)`` reading the columns of ``table`` (``name`` or
    ``schema.name``) from the INFORMATION_SCHEMA of the connection's
    database; the schema, when given, is bound as a second parameter."""
    parts = split_table(table, MSSQL)
    if len(parts) > 2:
        raise InvalidIdentifier(
            "describe reads the connection's database: set db_name to %r and give the table "
            "as %r" % (parts[0], ".".join(parts[1:])))
    name = parts[-1]
    params = [name]
    sql = MSSQL_DESCRIBE_COLUMNS
    if len(parts) >= 2:
        sql += " AND c.TABLE_SCHEMA = %s"
        params.append(parts[-2])
    sql += " ORDER BY c.TABLE_SCHEMA, c.ORDINAL_POSITION"
    return sql, params


def mssql_type(data_type, max_length=None, precision=None, scale=None):
    """An INFORMATION_SCHEMA type as it is written in DDL: ``varchar(50)``,
    ``nvarchar(max)``, ``decimal(10,2)``; other types by their name."""
    kind = str(data_type or "").lower()
    if kind in ("char", "varchar", "nchar", "nvarchar", "binary", "varbinary"):
        if max_length == -1:
            return "%s(max)" % kind
        if max_length is not None:
            return "%s(%d)" % (kind, int(max_length))
    if kind in ("decimal", "numeric") and precision is not None:
        return "%s(%d,%d)" % (kind, int(precision), int(scale or 0))
    return kind


def mssql_columns(rows):
    """INFORMATION_SCHEMA rows (in ``MSSQL_DESCRIBE_COLUMNS`` order) as
    ``(schemas, columns)``: the schemas the rows came from, in order, and
    the describe steps' column dicts."""
    schemas = []
    columns = []
    for row in rows:
        (schema, name, kind, max_length, precision, scale, _datetime_precision, nullable,
         default, key, identity, computed) = row
        if schema not in schemas:
            schemas.append(schema)
        extra = []
        if identity == 1:
            extra.append("identity")
        if computed == 1:
            extra.append("computed")
        columns.append({
            "name": normalise_value(name),
            "type": mssql_type(kind, max_length, precision, scale),
            "null": str(nullable or "").upper() == "YES",
            "key": key or "",
            "default": normalise_value(default),
            "extra": " ".join(extra),
        })
    return schemas, columns
