"""DRF parsers that apply the input rules of org.inputs to every body the API reads."""

import codecs

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json  # DRF's json: strict_constant refuses NaN and Infinity

from . import inputs


def _rejected(exc: inputs.InputRejected) -> ParseError:
    return ParseError(" ".join(exc.messages))


class JSONObjectParser(parsers.JSONParser):
    """A JSON object (not a list, string, number or null), at most inputs.MAX_DEPTH deep, every string checked."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.load(codecs.getreader(encoding)(stream), parse_constant=json.strict_constant if self.strict else None)
        except RecursionError:
            raise ParseError(_("The JSON is nested too deeply (at most %(max)d levels).") % {"max": inputs.MAX_DEPTH}) from None
        except (ValueError, UnicodeError) as exc:
            raise ParseError(_("The body is not valid JSON: %(error)s") % {"error": exc}) from None
        if not isinstance(data, dict):
            raise ParseError(_("The body must be a JSON object ({…})."))
        try:
            return inputs.clean_json(data)
        except inputs.InputRejected as exc:
            raise _rejected(exc) from None


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return inputs.clean_querydict(super().parse(stream, media_type, parser_context))
        except inputs.InputRejected as exc:
            raise _rejected(exc) from None


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parsed = super().parse(stream, media_type, parser_context)
        try:
            return parsers.DataAndFiles(inputs.clean_querydict(parsed.data), parsed.files)
        except inputs.InputRejected as exc:
            raise _rejected(exc) from None
