"""The security policy in force: the security administrator's row, or the level-3 defaults until there is one."""

from .models import SecurityPolicy


def current_policy() -> SecurityPolicy:
    policy = SecurityPolicy.objects.order_by("pk").first()
    return policy if policy is not None else SecurityPolicy()
