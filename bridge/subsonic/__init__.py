"""The Subsonic / OpenSubsonic API at ``/rest/``, so existing apps (DSub, Symfonium,
Feishin, ...) can use the server.

- ``responses``: the envelope, XML/JSON/JSONP rendering, the numeric error codes.
- ``auth`` and ``credentials``: per-request authentication with a separate, revocable
  Subsonic password or API key per user.
- ``params``: query and form parameters; ``ids``: prefixed string ids (``ar-``, ``al-``,
  ``tr-``, ``pl-``, ``co-``); ``shapes``: catalogue dicts as Subsonic elements.
- ``methods``: one module per area; they call ``library.selectors``, ``library.userdata``,
  ``tracker.services`` and ``orchestrator.services``, plus ``queries`` for the few lists
  only Subsonic needs; streams and covers are ``bridge.files``' responses, shared with REST.
- ``views`` and ``urls``: the endpoint, and ``/rest/credentials`` for the browser UI.
"""
