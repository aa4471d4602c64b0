"""Path converters shared by every app's URLs."""


class IdConverter:
    """A row id: ASCII digits that fit PostgreSQL's bigint. Anything else (non-ASCII digits, 5,000 digits) is a 404."""

    regex = "[0-9]{1,18}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))
