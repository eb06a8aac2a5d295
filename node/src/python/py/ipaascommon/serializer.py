"""``Serializable``: a base class for plain data objects that steps turn
into dictionaries (to save for the next step or send as JSON) and back."""


class Serializable:
    """An object whose public attributes make up its data.

    ``to_dict()`` answers ``{attribute: value}`` for every attribute not
    starting with ``_``, turning nested ``Serializable`` objects (also inside
    lists, tuples and dicts) into dictionaries too.  ``from_dict(d)`` builds an
    instance without calling ``__init__`` and sets the attributes from ``d``;
    ``update_from_dict(d)`` sets them on an existing instance."""

    def to_dict(self):
        return {name: _plain(value) for name, value in vars(self).items() if not name.startswith("_")}

    # The spelling some packs use.
    serialize = to_dict

    @classmethod
    def from_dict(cls, data):
        if not isinstance(data, dict):
            raise TypeError("%s.from_dict expects a dict, got %s" % (cls.__name__, type(data).__name__))
        obj = cls.__new__(cls)
        obj.update_from_dict(data)
        return obj

    deserialize = from_dict

    def update_from_dict(self, data):
        for name, value in data.items():
            if not isinstance(name, str):
                raise TypeError("attribute names must be strings, got %r" % (name,))
            setattr(self, name, value)
        return self

    def __eq__(self, other):
        if type(other) is not type(self):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None

    def __repr__(self):
        fields = ", ".join("%s=%r" % item for item in self.to_dict().items())
        return "%s(%s)" % (type(self).__name__, fields)


def _plain(value):
    if isinstance(value, Serializable):
        return value.to_dict()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
