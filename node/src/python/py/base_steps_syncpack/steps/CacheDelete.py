"""Cache Delete: removes ``<application name>/<key>`` from the shared cache."""

from base_steps_syncpack.util.cache_keys import declare_key, scoped
from ipaascommon.content_manger import IpaasContentManager
from ipaascore.BaseStep import BaseStep


class CacheDelete(BaseStep):
    def __init__(self):
        self.friendly_name = "Cache Delete"
        self.description = "Removes a key of this application from the cache"
        self.version = "1.0.0"
        declare_key(self)

    def execute(self):
        key = scoped(self.application_name, self.get_parameter("key"))
        IpaasContentManager().delete_from_cache(key)
        self.logger.info("removed %r from the cache" % key)
