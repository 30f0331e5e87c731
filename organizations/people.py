"""How a person is named on screen and on paper."""


def display_name(user) -> str:
    """A Chinese name reads surname first (王建国), unlike Django's ``get_full_name`` ("建国 王")."""
    if user is None:
        return ""
    return f"{user.last_name}{user.first_name}".strip() or user.username
