"""Looking up Keras objects given by name ('relu', 'adam', 'mse'), with an error that lists
the valid names."""


def lookup(kind, table, identifier):
    """table[identifier] for a string, identifier itself for a callable or object."""
    if identifier is None or not isinstance(identifier, str):
        return identifier
    try:
        return table[identifier]
    except KeyError:
        raise ValueError(f"Unknown {kind}: {identifier!r}. Valid names: "
                         f"{', '.join(sorted(table))}") from None


def name_of(table, value):
    """The name `value` has in `table`, or its __name__ / class name."""
    for name, entry in table.items():
        if entry is value:
            return name
    return getattr(value, "__name__", type(value).__name__)
