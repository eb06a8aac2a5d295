"""Cache Save: stores the previous steps' joined data in the shared cache
under ``<application name>/<key>``."""

from base_steps_syncpack.util.cache_keys import declare_key, scoped
from ipaascommon import ipaas_exceptions
from ipaascommon.content_manger import IpaasContentManager
from ipaascore.BaseStep import BaseStep


class CacheSave(BaseStep):
    def __init__(self):
        self.friendly_name = "Cache Save"
        self.description = "Saves the data of the previous steps in the cache, under a key of this application"
        self.version = "1.0.0"
        declare_key(self)
        self.new_step_parameter(name="expiry", description="seconds until the entry expires (none: never)",
                                sample_value=3600, default_value=None)

    def execute(self):
        key = scoped(self.application_name, self.get_parameter("key"))
        value = self.join_previous_step_data()
        if value is None:
            raise ipaas_exceptions.DataNotAvailableException(
                "nothing to cache under %r: no previous step saved data" % key)
        IpaasContentManager().save_to_cache(key, value, self.get_parameter("expiry"))
        self.logger.info("cached the data of the previous steps under %r" % key)
        self.save_data_for_next_step(value)
