"""Every named URL pattern of the project, read from the URL resolver (never a hand-kept list).

Small on purpose, so that the sweeps that walk the site (the Chinese page walk, an authorisation sweep)
can share it: each decides for itself which arguments to fill in and what to check.
"""

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RoutePattern


@dataclass(frozen=True)
class Route:
    """One named URL: ``name`` as ``reverse`` takes it ("flows:matter_detail") and the names of its arguments."""

    name: str
    route: str
    arguments: tuple[str, ...]
    callback: object

    @property
    def namespace(self) -> str:
        return self.name.rpartition(":")[0]


def _walk(patterns, prefix: str, namespace: str):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else entry.namespace or namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), inner)
        elif isinstance(entry, URLPattern) and entry.name:
            route = prefix + str(entry.pattern)
            converters = dict(entry.pattern.converters) if isinstance(entry.pattern, RoutePattern) else {}
            arguments = tuple(converters) or tuple(entry.pattern.regex.groupindex)
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            yield Route(name=name, route=route, arguments=arguments, callback=entry.callback)


def all_routes(urlconf=None) -> list[Route]:
    """Each named route once (the first pattern of a name wins, as ``reverse`` would pick it)."""
    seen, routes = set(), []
    for route in _walk(get_resolver(urlconf).url_patterns, "", ""):
        if route.name not in seen:
            seen.add(route.name)
            routes.append(route)
    return routes
