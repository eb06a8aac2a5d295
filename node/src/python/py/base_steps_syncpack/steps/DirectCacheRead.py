"""Direct Cache Read: reads a cache entry by its whole stored key (as
``IpaasContentManager`` or Cache Save wrote it), not scoped to this
application."""

from base_steps_syncpack.steps.CacheRead import CacheRead


class DirectCacheRead(CacheRead):
    def __init__(self):
        CacheRead.__init__(self)
        self.friendly_name = "Direct Cache Read"
        self.description = "Reads a cache entry by its whole key and saves its value"
        self.parameters["key"].description = "the whole stored key, e.g. other_app/devices"

    def execute(self):
        key = self.get_parameter("key")
        if key is None or str(key) == "":
            raise ValueError("the cache key is empty: set the step's 'key' parameter")
        self.save_data_for_next_step(self.read(str(key)))
