"""docs/api.md#every-response: the API always answers UTF-8 JSON, whatever the client asks."""

import orjson
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import BaseRenderer


class LegacyJSONRenderer(BaseRenderer):
    """UTF-8 JSON, not ASCII-escaped, with the charset spelled as Glance spelled it."""

    media_type = "application/json"
    format = "json"
    charset = "UTF-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return orjson.dumps(data)


class AlwaysJSON(BaseContentNegotiation):
    """No 406 for `Accept: text/html`, no 415 for glanceclient's octet-stream GETs."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
