"""IpaasContentManager: save, get, expiry, delete -- through the host."""

import datetime
import pickle
import sys

import pytest

from helpers import run, run_ok, step_source
from ipaascommon import content_manger, ipaas_manager
from ipaascommon.content_manger import IpaasContentManager


def test_alias_module_exports_the_same_class():
    assert ipaas_manager.IpaasContentManager is content_manger.IpaasContentManager


def test_save_get_delete_from_a_step(host):
    source = step_source(
        """
        from ipaascommon.content_manger import IpaasContentManager

        class CacheSave(BaseStep):
            def execute(self):
                cmanager = IpaasContentManager()
                cmanager.save_to_cache("devices_eu", {"ids": [1, 2]})
                self.save_data_for_next_step(cmanager.get_from_cache("devices_eu"))
        """
    )
    assert run_ok(source) == {"ids": [1, 2]}
    blob, expires_at = host.store["devices_eu"]
    assert pickle.loads(blob) == {"ids": [1, 2]}
    assert expires_at is None

    reader = step_source(
        """
        from ipaascommon.ipaas_manager import IpaasContentManager

        class CacheRead(BaseStep):
            def execute(self):
                cmanager = IpaasContentManager()
                found = cmanager.get_from_cache("devices_eu")
                cmanager.delete_from_cache("devices_eu")
                self.save_data_for_next_step([found, cmanager.get_from_cache("devices_eu")])
        """
    )
    assert run_ok(reader) == [{"ids": [1, 2]}, None]
    assert "devices_eu" not in host.store


def test_absent_key_reads_none_and_deleting_it_is_fine(host):
    manager = IpaasContentManager()
    assert manager.get_from_cache("nothing here") is None
    manager.delete_from_cache("nothing here")


def test_expiry_in_seconds(host):
    manager = IpaasContentManager()
    manager.save_to_cache("short", "value", expiry=60)
    assert host.calls[-1] == ("set", "short", 60.0)
    host.now += 59
    assert manager.get_from_cache("short") == "value"
    host.now += 1
    assert manager.get_from_cache("short") is None


def test_expiry_forms(host):
    manager = IpaasContentManager()
    manager.save_to_cache("td", 1, expiry=datetime.timedelta(minutes=2))
    manager.save_to_cache("float", 1, expiry=1.5)
    manager.save_to_cache("text", 1, expiry="30")
    manager.save_to_cache("zero", 1, expiry=0)
    manager.save_to_cache("none", 1)
    assert [call[2] for call in host.calls] == [120.0, 1.5, 30.0, None, None]
    with pytest.raises(ValueError):
        manager.save_to_cache("neg", 1, expiry=-5)
    with pytest.raises(TypeError):
        manager.save_to_cache("bool", 1, expiry=True)
    with pytest.raises(ValueError):
        manager.save_to_cache("words", 1, expiry="soon")


def test_a_later_save_replaces_the_entry(host):
    manager = IpaasContentManager()
    manager.save_to_cache("k", "old", expiry=10)
    manager.save_to_cache("k", "new")
    host.now += 100
    assert manager.get_from_cache("k") == "new"


def test_unpicklable_value_names_its_type(host):
    manager = IpaasContentManager()
    with pytest.raises(TypeError) as info:
        manager.save_to_cache("gen", (i for i in range(2)))
    assert "'gen'" in str(info.value) and "generator" in str(info.value)
    assert host.store == {}


def test_keys_must_be_non_empty_strings():
    manager = IpaasContentManager()
    with pytest.raises(TypeError):
        manager.save_to_cache(5, "v")
    with pytest.raises(ValueError):
        manager.get_from_cache("")


def test_corrupt_entry_is_reported(host):
    host.store["bad"] = (b"not a pickle", None)
    with pytest.raises(ValueError) as info:
        IpaasContentManager().get_from_cache("bad")
    assert "'bad'" in str(info.value)


def test_without_a_host_the_cache_explains_itself(monkeypatch):
    monkeypatch.setitem(sys.modules, "_ishost", None)  # makes `import _ishost` fail
    with pytest.raises(RuntimeError) as info:
        IpaasContentManager().get_from_cache("k")
    assert "runner" in str(info.value)


def test_constructor_accepts_old_options():
    IpaasContentManager("couchbase-host", bucket="logs")


def test_cache_failure_inside_a_step_fails_the_step():
    source = step_source(
        """
        from ipaascommon.content_manger import IpaasContentManager

        class BadCache(BaseStep):
            def execute(self):
                IpaasContentManager().save_to_cache("k", lambda: 1)
        """
    )
    response = run(source)
    assert response["ok"] is False
    assert response["error_type"] == "TypeError"
    assert "cannot be pickled" in response["message"]


def test_batch_save_stores_each_value_under_its_key(host):
    manager = IpaasContentManager()
    stored = manager.batch_data_and_save_to_cache({"b": [2], "a": {"x": 1}}, expiry=30)
    assert stored == ["a", "b"]
    assert pickle.loads(host.store["a"][0]) == {"x": 1}
    assert pickle.loads(host.store["b"][0]) == [2]
    assert manager.load_from_cache_by_key("a") == {"x": 1}
    assert manager.load_from_cache_by_key("absent") is None


def test_a_batch_with_a_bad_item_stores_nothing(host):
    manager = IpaasContentManager()
    with pytest.raises(TypeError, match="cannot be pickled"):
        manager.batch_data_and_save_to_cache({"good": 1, "bad": lambda: 0})
    assert "good" not in host.store
    with pytest.raises(TypeError, match="expects a dict"):
        manager.batch_data_and_save_to_cache([("k", 1)])


def test_get_application_dict_from_db_answers_the_stored_document(host):
    host.apps["inventory"] = {"name": "inventory", "app_variables": [{"name": "region", "value": "eu"}],
                              "steps": [{"name": "A", "file": "F"}]}
    manager = IpaasContentManager()
    doc = manager.get_application_dict_from_db("inventory")
    assert doc["app_variables"][0]["value"] == "eu"
    assert manager.get_application_dict_from_db("absent") is None
    with pytest.raises(ValueError, match="non-empty string"):
        manager.get_application_dict_from_db("")
