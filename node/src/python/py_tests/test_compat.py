"""Modules real packs of the original product import beyond the core step
API: MissingRequiredData, singleton, Serializable, isbaseutils."""

import pytest

from helpers import run, run_ok, step_source


def test_missing_required_data_is_a_step_api_exception():
    from ipaascommon.ipaas_exceptions import IpaasException, MissingRequiredData
    assert issubclass(MissingRequiredData, IpaasException)
    source = step_source(
        """
        from ipaascommon.ipaas_exceptions import MissingRequiredData

        class NeedsData(BaseStep):
            def execute(self):
                raise MissingRequiredData("no devices in the input")
        """
    )
    response = run(source)
    assert response["ok"] is False
    assert response["error_type"] == "MissingRequiredData"
    assert "no devices in the input" in response["message"]


def test_singleton_answers_one_instance():
    from ipaascommon.ipaas_utils import singleton

    @singleton
    class Settings:
        def __init__(self, region):
            self.region = region

    first = Settings("eu")
    assert Settings("us") is first
    assert first.region == "eu"
    assert Settings.wrapped_class.__name__ == "Settings"


def test_serializable_round_trips_through_dicts():
    from ipaascommon.serializer import Serializable

    class Device(Serializable):
        def __init__(self, name, ports):
            self.name = name
            self.ports = ports
            self._secret = "hidden"

    class Site(Serializable):
        def __init__(self, devices):
            self.devices = devices

    site = Site([Device("sw1", [1, 2])])
    assert site.to_dict() == {"devices": [{"name": "sw1", "ports": [1, 2]}]}
    again = Device.from_dict({"name": "sw2", "ports": []})
    assert isinstance(again, Device) and again.name == "sw2" and again.ports == []
    assert Device("a", [1]) == Device("a", [1])
    assert Device("a", [1]) != Device("a", [2])
    with pytest.raises(TypeError, match="expects a dict"):
        Device.from_dict(["name"])


def test_a_step_saves_a_serializable_object():
    source = step_source(
        """
        from ipaascommon.serializer import Serializable

        class Ticket(Serializable):
            def __init__(self, number):
                self.number = number

        class MakeTicket(BaseStep):
            def execute(self):
                self.save_data_for_next_step(Ticket(7).to_dict())
        """
    )
    assert run_ok(source) == {"number": 7}


def test_isbaseutils_modules():
    from isbaseutils import ipaas_constants
    from isbaseutils.utils import str_to_bool
    assert str_to_bool("Yes") is True and str_to_bool("false") is False
    assert ipaas_constants.SUCCESS == "SUCCESS"
    assert ipaas_constants.RELATIVE_URL == "relative_url"
    assert "REVOKED" in ipaas_constants.STATES
