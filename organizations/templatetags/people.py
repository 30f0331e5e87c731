from django import template

from organizations.people import display_name

register = template.Library()


@register.filter
def person(user) -> str:
    """``{{ task.owner|person }}``: the user's name, surname first, or "—" when there is nobody."""
    return display_name(user) or "—"
