"""Cache Read: reads ``<application name>/<key>`` from the shared cache
and saves the value for the next steps."""

from base_steps_syncpack.util.cache_keys import declare_key, scoped
from ipaascommon import ipaas_exceptions
from ipaascommon.content_manger import IpaasContentManager
from ipaascore.BaseStep import BaseStep


class CacheRead(BaseStep):
    def __init__(self):
        self.friendly_name = "Cache Read"
        self.description = "Reads a key of this application from the cache and saves its value"
        self.version = "1.0.0"
        declare_key(self)
        self.new_step_parameter(name="default", description="saved when the key is absent or expired "
                                                            "(without it, the step fails)",
                                sample_value=[], default_value=None)

    def execute(self):
        self.save_data_for_next_step(self.read(scoped(self.application_name, self.get_parameter("key"))))

    def read(self, key):
        value = IpaasContentManager().get_from_cache(key)
        if value is not None:
            return value
        default = self.get_parameter("default")
        if default is None:
            raise ipaas_exceptions.DataNotAvailableException(
                "the cache holds nothing under %r (absent or expired); give 'default' to go on without it"
                % key)
        self.logger.info("nothing cached under %r: saving the default" % key)
        return default
