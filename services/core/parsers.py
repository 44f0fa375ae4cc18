"""Request body parsers of the REST API.

DRF's JSON parser answers an unreadable body in English only, and Python's JSON decoder
recurses once per nesting level: a body such as ``[[[[...]]]]`` a few hundred kilobytes
deep exhausted the interpreter's stack, a server error. Both are a 400 ``parse_error``
here, in the reader's language.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError

DRF_PREFIX = "JSON parse error - "


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError(_("The body is not valid JSON: it is nested too deeply.")) from error
        except ParseError as error:
            reason = str(error.detail).removeprefix(DRF_PREFIX)
            raise ParseError(
                _("The body is not valid JSON (%(reason)s).") % {"reason": reason}
            ) from error
