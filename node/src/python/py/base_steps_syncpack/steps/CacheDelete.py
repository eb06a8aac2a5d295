"""Cache Delete: removes ``<application name>/<key>`` from the shared cache."""

from base_steps_syncpack.util.cache_keys import scoped
from ipaascommon.content_manger import IpaasContentManager
from ipaascore.BaseStep import BaseStep


class CacheDelete(BaseStep):
    def __init__(self):
        self.friendly_name = "Cache Delete"
        self.description = "Removes a key of this application from the cache"
        self.version = "1.0.0"
        self.new_step_parameter(name="key", description="the key, scoped to this application",
                                sample_value="devices", default_value=None, required=True)

    def execute(self):
        key = scoped(self.application_name, self.get_parameter("key"))
        IpaasContentManager().delete_from_cache(key)
        self.logger.info("removed %r from the cache" % key)
