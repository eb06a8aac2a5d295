"""Reports a step builds for its run (``StandardReport``, ``ParentReport``).

Every report is a table stored column by column: an ordered set of
**columns**, each a title and the list of values put in it.  Rows are read
across the columns by position: row ``i`` holds the ``i``-th value of every
column that has one (a shorter column leaves the cell empty).  A report may
also hold other reports (``sub_reports``); a *data key* names one of them,
so one call can fill a column of a sub-table::

    from ipaascommon.report_manager import StandardReport, ParentReport

    class CompareDevices(BaseStep):
        def execute(self):
            report = StandardReport("Devices", self.application_name, "Inventory", True)
            report.add_column("Device", column_data=["a", "b"])
            report.add_column("State", column_data=["up", "down"])
            # a sub-table "Removed" with the columns "Device" and "Reason"
            report.add_column("Device", "Removed", ["c"])
            report.add_column("Reason", "Removed", ["gone"])

            parent = ParentReport(self)      # a table named after the step
            for device in ("x", "y"):
                parent.add_column("Device", "New")   # declaring again is fine
                parent.add_row("Device", device, "New")

``StandardReport(name, app_name=None, section=None, flag=None)``
    A table.  Attributes ``name``, ``app_name``, ``section``, ``flag``
    (kept and shown as given), ``report_id`` (``"report-<32 hex digits>"``,
    unique in the process and fixed for the object), ``columns`` (a dict,
    in declaration order, of column title -> list of values), ``rows``
    (read only: the list of rows, each a dict ``{title: value}`` of the
    columns that have a value at that position) and ``sub_reports`` (list
    of reports).  Column titles are strings: a title that is not a string
    is turned into one as JSON shows a dict key (``1`` and ``"1"`` are the
    same column).  A title cannot be None.

``add_column(title, data_key=None, column_data=None)``
    Without ``data_key``: the column ``title`` of this report.  With a
    ``data_key`` (anything but None): the column ``title`` of this report's
    sub-report named ``data_key`` -- a ``StandardReport`` created the first
    time the data key is used (named ``data_key``, with this report's
    ``app_name``, ``section`` and ``flag``) and appended to
    ``sub_reports``; later uses of the same data key reach the same
    sub-report.  A column that does not exist yet is added after the
    others; declaring one that exists is not an error.  ``column_data``
    (a list, a tuple or another iterable that is not a string, bytes or a
    dict, else ``TypeError``) is appended to the column's values.  Returns
    this report (not the sub-report).

``add_row(title, value, data_key=None)``
    Appends ``value`` (any value, a dict or list included, as one cell) to
    the column ``title`` -- of this report, or of the sub-report named
    ``data_key`` as above -- adding the column when it does not exist yet.
    Returns this report.

``add_sub_report(report)``
    Appends an existing ``report`` (a ``StandardReport`` or
    ``ParentReport``) to ``sub_reports`` and returns it.  A report cannot
    contain itself.

``ParentReport(step)``
    The same kind of table (``add_column``, ``add_row``, ``add_sub_report``
    as above), named after ``step``: ``name`` is the step's name in the
    application (``step.get_name()``; a step run alone: its class name);
    ``app_name``, ``section`` and ``flag`` are None.  ``add_report(report)``
    is ``add_sub_report``.

``to_dict()`` (both)
    The report as JSON-ready data::

        {"report_id", "name", "app_name", "section", "flag",
         "columns": [{"title", "data_key"}],
         "rows": [{"title": None, "cells": {column title: value}}],
         "sub_reports": [...]}

    ``columns`` in declaration order, a column's ``data_key`` being its
    title; one row per position down the longest column, its ``cells``
    holding, in column order, the columns that have a value there (rows
    have no title of their own); ``sub_reports`` in the order they were
    added (the ones a data key created included).  Values are rendered like
    a step's saved data is for display: tuples become lists, non-string
    dict keys become strings, and objects JSON has no type for (datetimes,
    sets, NaN ...) become their ``repr``.  Values are rendered when the
    report is rendered (at the end of the step), so later changes to a
    mutable value are shown.

Saving
    While the runner executes a step, every report created (in the step's
    module, ``__init__`` or ``execute``, in any thread) is collected.  When
    the step ends -- successfully or not -- and the application has
    ``generate_report`` on (``self.generate_report``), the reports that are
    not a sub-report of another are returned to the service with the step's
    result, in creation order, and saved with the run.  Reports created
    outside a step execution (a step instantiated in a test, say) are not
    collected.  Nothing has to be called to save a report.
"""

import threading
import uuid

__all__ = ["StandardReport", "ParentReport"]

# The reports created during the current step execution; None when no step
# is executing (reports are then not collected).  The runner executes one
# step at a time in an interpreter, so this is module-wide state.
_lock = threading.Lock()
_collected = None


def _begin_collection():
    """Runner: start collecting the reports created from now on (forgetting
    any collected before)."""
    global _collected
    with _lock:
        _collected = []


def _end_collection():
    """Runner: stop collecting; returns the collected reports that are not
    the sub-report of another report, in creation order."""
    global _collected
    with _lock:
        reports = _collected or []
        _collected = None
    return [report for report in reports if report._parent is None]


def _register(report):
    with _lock:
        if _collected is not None:
            _collected.append(report)


def _new_report_id():
    return "report-" + uuid.uuid4().hex


def _key_text(key):
    """A data key as the string JSON shows it (as ``json_native`` renders
    dict keys)."""
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, (bool, int, float)):
        return str(key)
    try:
        return repr(key)
    except Exception:
        return "<%s object>" % type(key).__name__


def _native(value):
    # Imported here: the runner imports this module.
    from ipaascore._runner import json_native
    return json_native(value)



def _column_title(title):
    """The string a column title is stored as."""
    if title is None:
        raise ValueError("a column needs a title")
    return _key_text(title)


def _values_of(column_data):
    """``column_data`` as a list of values (``TypeError`` when it is not a
    collection of values)."""
    if isinstance(column_data, (str, bytes, bytearray, dict)):
        raise TypeError("column_data must be a list or a tuple of values, got %s"
                        % type(column_data).__name__)
    try:
        return list(column_data)
    except TypeError:
        raise TypeError("column_data must be a list or a tuple of values, got %s"
                        % type(column_data).__name__) from None


class _Report:
    """A table of columns with sub-reports: what ``StandardReport`` and
    ``ParentReport`` share."""

    def __init__(self, name, app_name=None, section=None, flag=None):
        self.name = name
        self.app_name = app_name
        self.section = section
        self.flag = flag
        self.report_id = _new_report_id()
        self.columns = {}
        self.sub_reports = []
        self._parent = None
        self._by_data_key = {}
        _register(self)

    def __repr__(self):
        return "%s(%r, report_id=%r, %d columns, %d rows, %d sub-reports)" % (
            type(self).__name__, self.name, self.report_id, len(self.columns),
            self._row_count(), len(self.sub_reports))

    # ------------------------------------------------------------ columns
    def _table(self, data_key):
        """This report (``data_key`` None) or its sub-report named
        ``data_key``, created on first use."""
        if data_key is None:
            return self
        key = _key_text(data_key)
        table = self._by_data_key.get(key)
        if table is None:
            table = StandardReport(data_key, self.app_name, self.section, self.flag)
            self.add_sub_report(table)
            self._by_data_key[key] = table
        return table

    def _column(self, title):
        """The list of values of column ``title`` (a string), added when new."""
        values = self.columns.get(title)
        if values is None:
            values = self.columns[title] = []
        return values

    def add_column(self, title, data_key=None, column_data=None):
        """Declare column ``title`` (of the sub-report ``data_key`` when
        given) and append ``column_data`` to it; returns this report."""
        title = _column_title(title)
        values = _values_of(column_data) if column_data is not None else []
        self._table(data_key)._column(title).extend(values)
        return self

    def add_row(self, title, value, data_key=None):
        """Append ``value`` to column ``title`` (of the sub-report
        ``data_key`` when given); returns this report."""
        title = _column_title(title)
        self._table(data_key)._column(title).append(value)
        return self

    def _row_count(self):
        return max((len(values) for values in self.columns.values()), default=0)

    @property
    def rows(self):
        """The rows read across the columns: ``[{title: value}]``."""
        columns = list(self.columns.items())
        return [{title: values[index] for title, values in columns if index < len(values)}
                for index in range(self._row_count())]

    # ------------------------------------------------------------ sub-reports
    def add_sub_report(self, report):
        """Append ``report`` to ``sub_reports``; returns ``report``."""
        if not isinstance(report, _Report):
            raise TypeError("a sub-report must be a StandardReport or a ParentReport, got %s"
                            % type(report).__name__)
        if report is self or report._contains(self):
            raise ValueError("report %s cannot be a sub-report of itself" % report.report_id)
        report._parent = self
        self.sub_reports.append(report)
        return report

    def _contains(self, other):
        pending = list(self.sub_reports)
        seen = set()
        while pending:
            item = pending.pop()
            if item is other:
                return True
            if id(item) in seen or not isinstance(item, _Report):
                continue
            seen.add(id(item))
            pending.extend(item.sub_reports)
        return False

    def _sub_report_dicts(self, ancestors):
        ancestors = ancestors + (id(self),)
        out = []
        for report in self.sub_reports:
            if not isinstance(report, _Report):
                raise TypeError("report %s has a sub-report that is a %s, not a report"
                                % (self.report_id, type(report).__name__))
            if id(report) in ancestors:
                raise ValueError("report %s contains itself" % report.report_id)
            out.append(report._to_dict(ancestors))
        return out

    # ------------------------------------------------------------ rendering
    def to_dict(self):
        """The report as JSON-ready data (see the module docstring)."""
        return self._to_dict(())

    def _to_dict(self, ancestors):
        columns = [(_key_text(title), list(values)) for title, values in self.columns.items()]
        height = max((len(values) for _, values in columns), default=0)
        rows = []
        for index in range(height):
            cells = {}
            for title, values in columns:
                if index < len(values):
                    cells[title] = _native(values[index])
            rows.append({"title": None, "cells": cells})
        return {
            "report_id": self.report_id,
            "name": _native(self.name),
            "app_name": _native(self.app_name),
            "section": _native(self.section),
            "flag": _native(self.flag),
            "columns": [{"title": title, "data_key": title} for title, _ in columns],
            "rows": rows,
            "sub_reports": self._sub_report_dicts(ancestors),
        }


class StandardReport(_Report):
    """A table of a run's report; see the module docstring."""

    def __init__(self, name, app_name=None, section=None, flag=None):
        super().__init__(name, app_name, section, flag)


def _step_name(step):
    if step is None:
        return None
    get_name = getattr(step, "get_name", None)
    if callable(get_name):
        try:
            name = get_name()
        except Exception:
            name = None
        if name:
            return name
    return type(step).__name__


class ParentReport(_Report):
    """The table of one step, named after it; see the module docstring."""

    def __init__(self, step):
        self.step = step
        super().__init__(_step_name(step))

    def add_report(self, report):
        """Append ``report`` to ``sub_reports``; returns ``report``."""
        return self.add_sub_report(report)
