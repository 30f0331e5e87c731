"""Request guards that run before any view: a size limit per page, and no NUL characters in the input.

A page says how large a request it takes with ``@request_size_limit(bytes)``; other pages take
``REQUEST_MAX_BYTES`` from a signed-in user and ``ANONYMOUS_REQUEST_MAX_BYTES`` from anyone else, so an
anonymous visitor cannot make the server read 100 MB. The check reads only the Content-Length header,
before the body. NUL characters cannot be stored in PostgreSQL text: a query or form value containing
one is refused with a clear message instead of a server error.
"""

from django.conf import settings
from django.shortcuts import render
from django.utils.translation import gettext as _


def request_size_limit(max_bytes: int):
    """Decorate a view with the largest request body it accepts."""

    def decorate(view):
        view.max_request_bytes = max_bytes
        return view

    return decorate


def _limit_for(request, view_func) -> int:
    explicit = getattr(view_func, "max_request_bytes", None)
    if explicit is not None:
        return explicit
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return settings.REQUEST_MAX_BYTES
    return settings.ANONYMOUS_REQUEST_MAX_BYTES


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _has_nul(query_dict) -> bool:
    return any("\x00" in key or any("\x00" in value for value in values) for key, values in query_dict.lists())


def refused(request, status: int, message: str):
    return render(request, "protection/refused.html", {"message": message}, status=status)


class RequestGuardMiddleware:
    """Place it before CsrfViewMiddleware: its check must come before anything reads the body."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        limit = _limit_for(request, view_func)
        size = _declared_length(request)
        if size > limit:
            return refused(
                request,
                413,
                _("The request is too large (%(size)s MB); this page accepts at most %(limit)s MB.")
                % {"size": round(size / 1048576, 1), "limit": round(limit / 1048576, 1)},
            )
        if _has_nul(request.GET) or (request.method == "POST" and _has_nul(request.POST)):
            return refused(
                request,
                400,
                _("The request contains a NUL character (\\0), which no field may hold; remove it and try again."),
            )
        return None
