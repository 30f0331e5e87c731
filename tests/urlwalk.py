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
    # (argument, converter class name), e.g. ("pk", "IntConverter"), for the arguments that take one.
    converters: tuple[tuple[str, str], ...] = ()

    @property
    def namespace(self) -> str:
        return self.name.rpartition(":")[0]


def _converters(pattern) -> dict:
    return dict(pattern.converters) if isinstance(pattern, RoutePattern) else {}


def _walk(patterns, prefix: str, namespace: str, outer: dict):
    """Each named pattern under ``patterns``; ``outer`` holds the converters of the includes above it."""
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else entry.namespace or namespace
            yield from _walk(
                entry.url_patterns, prefix + str(entry.pattern), inner, {**outer, **_converters(entry.pattern)}
            )
        elif isinstance(entry, URLPattern) and entry.name:
            route = prefix + str(entry.pattern)
            converters = {**outer, **_converters(entry.pattern)}
            arguments = tuple(converters) or tuple(entry.pattern.regex.groupindex)
            name = f"{namespace}:{entry.name}" if namespace else entry.name
            named = tuple((argument, type(converter).__name__) for argument, converter in converters.items())
            yield Route(name=name, route=route, arguments=arguments, callback=entry.callback, converters=named)


def every_route(urlconf=None) -> list[Route]:
    """Every named pattern, a name that several patterns share once for each of them."""
    return list(_walk(get_resolver(urlconf).url_patterns, "", "", {}))


def all_routes(urlconf=None) -> list[Route]:
    """Each named route once (the first pattern of a name wins, as ``reverse`` would pick it)."""
    seen, routes = set(), []
    for route in every_route(urlconf):
        if route.name not in seen:
            seen.add(route.name)
            routes.append(route)
    return routes
