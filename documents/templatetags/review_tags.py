"""``{% review_panel matter %}``: flags and correction requests of a matter, with the forms this user may use."""

from django import template

from documents.review import review_panel_context

register = template.Library()


@register.inclusion_tag("documents/partials/review_panel.html", takes_context=True)
def review_panel(context, matter):
    user = context["request"].user
    return {
        **review_panel_context(user, matter),
        "csrf_token": context.get("csrf_token"),
        "request": context["request"],
    }
