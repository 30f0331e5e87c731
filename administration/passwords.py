"""Password validators of the level-3 policy (AUTH_PASSWORD_VALIDATORS): length, character classes,
not the username, none of the last passwords. Django's own validators add similarity and common passwords."""

import string

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import PasswordHistory
from .policy import current_policy

CLASSES = (string.ascii_lowercase, string.ascii_uppercase, string.digits)
MIN_CLASSES = 3


def character_classes(password: str) -> int:
    """Lower case, upper case, digits and anything else (symbols, Chinese characters) each count once."""
    found = {index for char in password for index, chars in enumerate(CLASSES) if char in chars}
    others = any(not any(char in chars for chars in CLASSES) for char in password)
    return len(found) + int(others)


class PolicyLengthValidator:
    def validate(self, password, user=None):
        minimum = current_policy().min_password_length
        if len(password) < minimum:
            raise ValidationError(
                ngettext(
                    "The password must have at least %(min)d character.",
                    "The password must have at least %(min)d characters.",
                    minimum,
                )
                % {"min": minimum},
                code="password_too_short",
            )

    def get_help_text(self):
        return _("At least %(min)d characters.") % {"min": current_policy().min_password_length}


class CharacterClassesValidator:
    def validate(self, password, user=None):
        if character_classes(password) < MIN_CLASSES:
            raise ValidationError(
                _(
                    "The password must mix at least three of: lower-case letters, upper-case letters, digits, "
                    "other characters."
                ),
                code="password_classes",
            )

    def get_help_text(self):
        return _("At least three of: lower-case letters, upper-case letters, digits, other characters.")


class NotTheUsernameValidator:
    def validate(self, password, user=None):
        username = (user.get_username() if user is not None else "").lower()
        if username and username in password.lower():
            raise ValidationError(_("The password may not contain the username."), code="password_has_username")

    def get_help_text(self):
        return _("Not containing the username.")


class PasswordHistoryValidator:
    """Refuses the current password and the last few; records each new one when it is set."""

    def validate(self, password, user=None):
        if user is None or user.pk is None:
            return
        earlier = self._earlier(user)
        current = user.__class__._default_manager.filter(pk=user.pk).values_list("password", flat=True).first()
        if (current and check_password(password, current)) or any(check_password(password, old) for old in earlier):
            raise ValidationError(
                _("The password was used recently; choose one you have not used in your last %(count)d.")
                % {"count": current_policy().password_history},
                code="password_reused",
            )

    def _earlier(self, user) -> list[str]:
        limit = current_policy().password_history
        return list(PasswordHistory.objects.filter(user=user).values_list("password", flat=True)[:limit])

    def password_changed(self, password, user=None):
        if user is None or user.pk is None or not user.password:
            return
        PasswordHistory.objects.create(user=user, password=user.password)
        keep = current_policy().password_history
        stale = PasswordHistory.objects.filter(user=user).values_list("pk", flat=True)[keep:]
        PasswordHistory.objects.filter(pk__in=list(stale)).delete()

    def get_help_text(self):
        return _("None of your last %(count)d passwords.") % {"count": current_policy().password_history}
