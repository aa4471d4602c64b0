"""Streaming readers of a pushed body: JSON array, NDJSON or CSV, one row at a time.

The body is read in 1 MB pieces and never held whole. A body that cannot be read as its format
(broken JSON, bad UTF-8, a CSV without header) raises MalformedBody: the batch is then rolled back.
"""

import csv
import hashlib
import io
from collections.abc import Iterator

import ijson
import orjson
from django.utils.translation import gettext as _

READ_SIZE = 1 << 20
MAX_LINE = 4 << 20  # one NDJSON line or CSV row longer than this is not a row
MAX_DEPTH = 32  # levels of nesting inside one row

CONTENT_TYPES = {
    "application/json": "json",
    "application/x-ndjson": "ndjson",
    "application/ndjson": "ndjson",
    "application/jsonl": "ndjson",
    "application/json-seq": "ndjson",
    "text/csv": "csv",
}


class MalformedBody(Exception):
    pass


def format_for(content_type: str) -> str | None:
    return CONTENT_TYPES.get((content_type or "").split(";")[0].strip().lower())


class CountingReader(io.RawIOBase):
    """A raw stream over the request body that counts the bytes read."""

    def __init__(self, source):
        self.source = source
        self.bytes = 0
        self.digest = hashlib.sha256()  # of the whole body: a reused idempotency key with another body is refused

    def readable(self):
        return True

    def readinto(self, buffer):
        data = self.source.read(len(buffer))
        n = len(data)
        buffer[:n] = data
        self.bytes += n
        self.digest.update(data)
        return n

    def read(self, size=-1):
        data = self.source.read(size if size is not None and size >= 0 else READ_SIZE)
        self.bytes += len(data)
        self.digest.update(data)
        return data

    def drain(self) -> str:
        """Read what is left (bytes after the last row) and return the body's sha256."""
        while self.read(READ_SIZE):
            pass
        return self.digest.hexdigest()


def ndjson_rows(stream: CountingReader) -> Iterator[tuple[int, object]]:
    rest = b""
    number = 0
    while True:
        chunk = stream.read(READ_SIZE)
        if not chunk:
            break
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        if len(rest) > MAX_LINE:
            raise MalformedBody(_("Line %(n)s is longer than 4 MB.") % {"n": number + len(lines) + 1})
        for line in lines:
            number += 1
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise MalformedBody(_("Line %(n)s is not valid JSON.") % {"n": number}) from None
            yield number, row
    if rest.strip():
        number += 1
        try:
            row = orjson.loads(rest)
        except orjson.JSONDecodeError:
            raise MalformedBody(_("Line %(n)s is not valid JSON.") % {"n": number}) from None
        yield number, row


def json_rows(stream: CountingReader) -> Iterator[tuple[int, object]]:
    """Rows of a JSON array, built from ijson's prefix-free events so memory stays flat whatever the nesting.

    (ijson.items keeps a dotted prefix per level, which grows with the square of the depth: a 24 KB body of
    nested brackets took hundreds of MB.) A row nested deeper than MAX_DEPTH is not a row.
    """
    buffered = io.BufferedReader(stream, READ_SIZE)
    head = buffered.peek(64).lstrip()[:1]
    if head != b"[":
        raise MalformedBody(_("The body must be a JSON array of rows."))
    depth, number, builder = 0, 0, None
    try:
        for event, value in ijson.basic_parse(buffered, use_float=True):
            if event in ("start_map", "start_array"):
                depth += 1
                if depth > MAX_DEPTH + 1:
                    raise MalformedBody(_("Row %(n)s is nested more than %(max)s levels deep.") % {"n": number + 1, "max": MAX_DEPTH})
                if depth == 1:
                    continue  # the array of rows itself
            elif event in ("end_map", "end_array"):
                depth -= 1
                if depth == 0:
                    continue
            if depth == 1 and builder is None:  # a row that is a plain value
                number += 1
                yield number, value
                continue
            if builder is None:
                builder = ijson.ObjectBuilder()
            builder.event(event, value)
            if depth == 1:  # the row's closing bracket
                number += 1
                yield number, builder.value
                builder = None
    except (ijson.JSONError, UnicodeDecodeError) as exc:
        raise MalformedBody(_("The body is not valid JSON: %(reason)s") % {"reason": exc}) from None


def csv_rows(stream: CountingReader) -> Iterator[tuple[int, dict]]:
    """Rows numbered from 1 after the header line; cells are text."""
    text = io.TextIOWrapper(io.BufferedReader(stream, READ_SIZE), encoding="utf-8-sig", newline="")
    csv.field_size_limit(MAX_LINE)
    try:
        reader = csv.reader(text)
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise MalformedBody(_("The CSV body has no header line."))
        header = [h.strip() for h in header]
        if len(set(header)) != len(header):
            raise MalformedBody(_("The CSV header names a column twice."))
        width = len(header)
        for number, cells in enumerate(reader, start=1):
            if not cells:
                continue
            if len(cells) > width:
                yield number, {None: cells}
                continue
            yield number, dict(zip(header, cells))
    except UnicodeDecodeError:
        raise MalformedBody(_("The body is not UTF-8 text.")) from None
    except csv.Error as exc:
        raise MalformedBody(_("The CSV body cannot be read: %(reason)s") % {"reason": exc}) from None


READERS = {"json": json_rows, "ndjson": ndjson_rows, "csv": csv_rows}
