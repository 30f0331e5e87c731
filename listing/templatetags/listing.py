"""Links of a sorted, filtered, keyset-paged list: the filter state stays in the URL, so any view can be
bookmarked and shared. ``{% sort_header "amount" label %}``, ``{% keyset_pager page %}``, ``{% query_with a=1 %}``,
and ``{% row_count found %}`` or ``{{ found|bounded }}`` for a count made by ``bounded_count`` ("1,000+")."""

from django import template
from django.utils.html import format_html

from ..keyset import COUNT_LIMIT, CURSOR_PARAMS, SORT_PARAM

register = template.Library()


def _query(request, changes: dict) -> str:
    params = request.GET.copy()
    for name, value in changes.items():
        params.pop(name, None)
        if value not in (None, ""):
            params[name] = value
    encoded = params.urlencode()
    return f"?{encoded}" if encoded else "?"


@register.simple_tag(takes_context=True)
def query_with(context, **changes) -> str:
    """The current query string with ``changes`` applied ("" or None removes a parameter)."""
    return _query(context["request"], changes)


@register.simple_tag(takes_context=True)
def sort_header(context, name: str, label) -> str:
    """A column header that sorts by ``name``: ascending first, the other way when it is the current sort."""
    page = context.get("page")
    current = getattr(page, "sort", "")
    active = current.removeprefix("-") == name
    descending = current.startswith("-")
    target = name if not active or descending else f"-{name}"
    url = _query(context["request"], {SORT_PARAM: target, **dict.fromkeys(CURSOR_PARAMS)})
    if not active:
        return format_html('<a class="sort" href="{}">{}</a>', url, label)
    arrow, state = ("↓", "descending") if descending else ("↑", "ascending")
    return format_html(
        '<a class="sort current" href="{}" aria-sort="{}" data-sort="{}">{} <span aria-hidden="true">{}</span></a>',
        url,
        state,
        current,
        label,
        arrow,
    )


@register.inclusion_tag("listing/pager.html", takes_context=True)
def keyset_pager(context, page) -> dict:
    request = context["request"]
    return {
        "page": page,
        "first_url": _query(request, dict.fromkeys(CURSOR_PARAMS)) if not page.is_first else "",
        "previous_url": _query(request, {"after": None, "before": page.previous_cursor}) if page.has_previous else "",
        "next_url": _query(request, {"before": None, "after": page.next_cursor}) if page.has_next else "",
    }


@register.filter
def bounded(count: int) -> str:
    """A count from ``bounded_count``: the number, or "1,000+" when it stopped counting."""
    return f"{COUNT_LIMIT:,}+" if count > COUNT_LIMIT else str(count)


@register.inclusion_tag("listing/row_count.html")
def row_count(found: int) -> dict:
    return {"found": found, "more": found > COUNT_LIMIT, "shown": bounded(found)}
