"""What every surface accepts from outside: text, JSON structure, dates and idempotency keys.

One set of rules, applied where input enters (org.middleware.InputGuardMiddleware for query strings
and forms, org.parsers for DRF bodies), so that no view has to remember them:

- no NUL bytes, lone surrogates or control characters other than tab and newlines;
- no value longer than MAX_VALUE characters, no key longer than MAX_KEY, JSON at most MAX_DEPTH deep;
- a text of only whitespace and zero-width characters is empty;
- dates are real dates with an offset.
"""

import datetime as dt
import re

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

MAX_VALUE = 20_000  # characters in any one submitted value (the longest field, a description, is far shorter)
MAX_KEY = 100  # characters in a field name or JSON key
MAX_DEPTH = 32  # nesting of JSON objects and lists
MAX_ITEMS = 10_000  # values in one JSON body or form

IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

# C0 controls but tab, LF and CR; DEL and C1 controls; UTF-16 surrogates (only a lone one survives decoding)
_FORBIDDEN = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
# zero-width and other invisible format characters that make a field look filled when it is not
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad"


class InputRejected(ValidationError):
    """Input that no field may hold; answered with 400 before any view runs."""


def check_text(value: str, *, name: str = "") -> str:
    """The value itself if acceptable, "" if it is only blank or invisible; InputRejected otherwise."""
    if len(value) > MAX_VALUE:
        raise InputRejected(_("%(name)s is too long (at most %(max)d characters).") % {"name": name or _("A value"), "max": MAX_VALUE})
    if _FORBIDDEN.search(value):
        raise InputRejected(_("%(name)s contains control characters or invalid code points; please remove them.") % {"name": name or _("A value")})
    if value and not value.strip(_INVISIBLE + " \t\r\n\u3000"):
        return ""
    return value


def check_key(key: str) -> str:
    if len(key) > MAX_KEY:
        raise InputRejected(_("A field name is longer than %(max)d characters.") % {"max": MAX_KEY})
    return check_text(key, name=_("A field name"))


def clean_json(data):
    """Walk a parsed JSON body without recursion: depth, size and every string checked, invisible text emptied."""
    root = [data]
    stack = [(root, 0, 0)]  # (container, key or index, depth of the value)
    seen = 0
    while stack:
        container, slot, depth = stack.pop()
        value = container[slot]
        seen += 1
        if seen > MAX_ITEMS:
            raise InputRejected(_("The request holds too many values (at most %(max)d).") % {"max": MAX_ITEMS})
        if isinstance(value, str):
            container[slot] = check_text(value)
        elif isinstance(value, (dict, list)):
            if depth >= MAX_DEPTH:
                raise InputRejected(_("The JSON is nested too deeply (at most %(max)d levels).") % {"max": MAX_DEPTH})
            if isinstance(value, dict):
                for key in list(value):
                    if check_key(key) != key:
                        raise InputRejected(_("A field name is empty or invisible."))
                    stack.append((value, key, depth + 1))
            else:
                stack.extend((value, index, depth + 1) for index in range(len(value)))
    return root[0]


def clean_querydict(data):
    """A form or query string: every name and value checked; a mutable copy with invisible values emptied."""
    if sum(len(values) for values in data.lists()) > MAX_ITEMS:
        raise InputRejected(_("The request holds too many values (at most %(max)d).") % {"max": MAX_ITEMS})
    cleaned = data.copy()
    for key, values in data.lists():
        check_key(key)
        cleaned.setlist(key, [check_text(v, name=key) for v in values])
    return cleaned


def check_idempotency_key(raw: str | None) -> str | None:
    """The Idempotency-Key header: None when absent, the key when well formed, InputRejected otherwise."""
    if raw is None:
        return None
    key = raw.strip()
    if not IDEMPOTENCY_KEY.match(key):
        raise InputRejected(_("The Idempotency-Key must be 1 to 64 characters of letters, digits and . _ : -"))
    return key


def parse_moment(raw, *, name: str = "") -> dt.datetime | None:
    """An ISO 8601 date-time with its UTC offset; None for an empty value; ValidationError for anything else."""
    if raw in (None, ""):
        return None
    label = name or _("The time")
    if not isinstance(raw, str):
        raise ValidationError(_("%(name)s must be an ISO 8601 date and time.") % {"name": label})
    try:
        moment = parse_datetime(raw.strip())
    except ValueError:  # well formed but impossible: 2026-02-30, 25:00
        raise ValidationError(_("%(name)s is not a real date and time: %(value)s") % {"name": label, "value": raw[:40]}) from None
    if moment is None:
        raise ValidationError(_("%(name)s must be an ISO 8601 date and time, such as 2026-03-01T09:30:00+08:00.") % {"name": label})
    if moment.tzinfo is None:
        raise ValidationError(_("%(name)s needs its UTC offset, such as +08:00.") % {"name": label})
    return moment


# Characters XML 1.0 cannot carry at all (so neither can an .xlsx sheet): what an older row may still hold
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_safe(value: str) -> str:
    """Text with the characters XML cannot hold removed, for XML and Excel output of stored rows."""
    return _XML_ILLEGAL.sub("", value)
