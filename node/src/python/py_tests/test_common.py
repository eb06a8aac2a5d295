"""ipaascommon helpers and exceptions; properties of the package files."""

import ast
import os
import re

import pytest

from conftest import PY_DIR
from ipaascommon import ipaas_exceptions as ex
from ipaascommon.ipaas_utils import str_to_bool
from ipaascommon.json_utils import get_dict_from_ex_json_str

EXPECTED_FILES = [
    "base_steps_syncpack/__init__.py",
    "base_steps_syncpack/apps/integration_template.json",
    "base_steps_syncpack/steps/CacheDelete.py",
    "base_steps_syncpack/steps/CacheRead.py",
    "base_steps_syncpack/steps/CacheSave.py",
    "base_steps_syncpack/steps/CountRecords.py",
    "base_steps_syncpack/steps/DirectCacheRead.py",
    "base_steps_syncpack/steps/MsSqlDescribe.py",
    "base_steps_syncpack/steps/MsSqlInsert.py",
    "base_steps_syncpack/steps/MsSqlSelect.py",
    "base_steps_syncpack/steps/MySqlDescribe.py",
    "base_steps_syncpack/steps/MySqlInsert.py",
    "base_steps_syncpack/steps/MySqlSelect.py",
    "base_steps_syncpack/steps/QueryGQL.py",
    "base_steps_syncpack/steps/QueryREST.py",
    "base_steps_syncpack/steps/SSHCommand.py",
    "base_steps_syncpack/steps/TriggerApplication.py",
    "base_steps_syncpack/steps/__init__.py",
    "base_steps_syncpack/steps/stepTemplate.py",
    "base_steps_syncpack/util/__init__.py",
    "base_steps_syncpack/util/cache_keys.py",
    "base_steps_syncpack/util/db.py",
    "base_steps_syncpack/util/drivers.py",
    "base_steps_syncpack/util/http.py",
    "base_steps_syncpack/util/sql.py",
    "ipaascommon/__init__.py",
    "ipaascommon/application_runs.py",
    "ipaascommon/content_manger.py",
    "ipaascommon/ipaas_exceptions.py",
    "ipaascommon/ipaas_manager.py",
    "ipaascommon/ipaas_utils.py",
    "ipaascommon/json_utils.py",
    "ipaascommon/report_manager.py",
    "ipaascommon/serializer.py",
    "ipaascore/BaseStep.py",
    "ipaascore/__init__.py",
    "ipaascore/_runner.py",
    "ipaascore/_substitution.py",
    "ipaascore/ipaas_logger.py",
    "ipaascore/parameter_types.py",
    "isbaseutils/__init__.py",
    "isbaseutils/ipaas_constants.py",
    "isbaseutils/utils.py",
]
PYTHON_FILES = [f for f in EXPECTED_FILES if f.endswith(".py")]


def package_files():
    found = []
    for root, dirs, files in os.walk(PY_DIR):
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        for name in files:
            found.append(os.path.relpath(os.path.join(root, name), PY_DIR).replace(os.sep, "/"))
    return sorted(found)


def test_the_embedded_file_list_is_stable():
    # The Rust side embeds exactly these files with include_str!; update both together.
    assert package_files() == EXPECTED_FILES


@pytest.mark.parametrize("relative", PYTHON_FILES)
def test_package_files_parse_as_python_3_7(relative):
    with open(os.path.join(PY_DIR, relative)) as handle:
        source = handle.read()
    tree = ast.parse(source, filename=relative, feature_version=(3, 7))
    for node in ast.walk(tree):
        assert not isinstance(node, ast.NamedExpr), "walrus in %s" % relative


@pytest.mark.parametrize("relative", PYTHON_FILES)
def test_only_allowed_modules_import_the_host(relative):
    with open(os.path.join(PY_DIR, relative)) as handle:
        source = handle.read()
    imports = re.findall(r"^\s*(?:import|from)\s+_ishost\b", source, re.M)
    if relative in ("ipaascore/_runner.py", "ipaascore/ipaas_logger.py", "ipaascommon/content_manger.py"):
        for match in re.finditer(r"^(\s*)import _ishost", source, re.M):
            assert match.group(1), "_ishost must be imported lazily (inside a function) in %s" % relative
    else:
        assert imports == []


# ---------------------------------------------------------------- str_to_bool
@pytest.mark.parametrize("value,expected", [
    (True, True), (False, False), (None, False),
    ("true", True), ("True", True), (" YES ", True), ("y", True), ("1", True), ("on", True), ("t", True),
    ("false", False), ("F", False), ("no", False), ("0", False), ("off", False), ("", False),
    (1, True), (0, False), (2.5, True), (b"yes", True),
])
def test_str_to_bool(value, expected):
    assert str_to_bool(value) is expected


@pytest.mark.parametrize("value", ["maybe", "2", [1], {}])
def test_str_to_bool_errors(value):
    with pytest.raises(ValueError):
        str_to_bool(value)


# ---------------------------------------------------------------- json utils
def test_get_dict_from_ex_json_str():
    given = {"a": 1}
    assert get_dict_from_ex_json_str(given) is given
    assert get_dict_from_ex_json_str('{"a": [1, true, null]}') == {"a": [1, True, None]}
    assert get_dict_from_ex_json_str("{'a': (1, 2), 'b': True, 'c': None}") == {"a": (1, 2), "b": True, "c": None}
    assert get_dict_from_ex_json_str(b'{"x": 1}') == {"x": 1}
    assert get_dict_from_ex_json_str('  {"x": 1}\n') == {"x": 1}


@pytest.mark.parametrize("value,fragment", [
    ("{not json", "cannot parse"),
    ("[1, 2]", "is a list"),
    ("42", "is a int"),
    ("", "empty string"),
    (None, "got NoneType"),
    ([1], "got list"),
    (12, "got int"),
])
def test_get_dict_from_ex_json_str_errors(value, fragment):
    with pytest.raises(ValueError) as info:
        get_dict_from_ex_json_str(value)
    assert fragment in str(info.value)


# ---------------------------------------------------------------- exceptions
def test_exceptions():
    for cls in (ex.StepFailedException, ex.MissingRequiredStepParameter,
                ex.DataNotAvailableException, ex.InvalidStepParameter):
        assert issubclass(cls, ex.IpaasException) and issubclass(cls, Exception)
        assert str(cls("message")) == "message"
    assert not issubclass(ex.DataNotAvailableException, ex.StepFailedException)
    error = ex.MissingRequiredStepParameter(missing=["a", "b"], step_name="S")
    assert error.missing == ["a", "b"] and error.step_name == "S"
    assert str(error) == "missing required parameters of step 'S': a, b"
    assert str(ex.MissingRequiredStepParameter(missing=["a"])) == "missing required parameter: a"
    assert str(ex.MissingRequiredStepParameter()) == "a required parameter is missing"
