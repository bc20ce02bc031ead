"""``GET /api/v1/schema/``: the OpenAPI schema, generated once per process for each format.

Generating it costs about 53 ms of CPU and the endpoint is public, so every anonymous
request paid that. The schema changes only with the code, so each process keeps what it
rendered, keyed by the format alone (YAML or JSON; each is served under two media types):
callers cannot grow the cache. It is written in the server's language (drf-spectacular's ``lang``
parameter is not honoured) and rendered with the renderer's own media type, so parameters
in ``Accept`` (``indent=``) change nothing either.
"""
from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse
from django.utils import translation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView


class SchemaView(SpectacularAPIView):
    rendered: dict[str, tuple[bytes, str]] = {}  # format -> body, Content-Disposition

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request, *args, **kwargs):
        renderer = request.accepted_renderer
        entry = self.rendered.get(renderer.format)
        if entry is None:
            with translation.override(settings.LANGUAGE_CODE):
                response = self._get_schema_response(request)
            body = renderer.render(response.data, renderer.media_type, self.get_renderer_context())
            entry = self.rendered.setdefault(renderer.format, (body, response["Content-Disposition"]))
        body, disposition = entry
        content_type = f"{renderer.media_type}; charset={renderer.charset}" if renderer.charset else renderer.media_type
        return HttpResponse(body, content_type=content_type, headers={"Content-Disposition": disposition})
