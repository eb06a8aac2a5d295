"""Keys of the cache steps: Cache Save/Read/Delete scope a key to the
application (``<application name>/<key>``); Direct Cache Read takes the
whole stored key."""


def scoped(application_name, key):
    if key is None or str(key) == "":
        raise ValueError("the cache key is empty: set the step's 'key' parameter")
    key = str(key)
    if not application_name:
        return key
    return "%s/%s" % (application_name, key)


def declare_key(step, description="the key, scoped to this application"):
    """Declares the required ``key`` parameter the cache steps take."""
    step.new_step_parameter(name="key", description=description,
                            sample_value="devices", default_value=None, required=True)
