"""Words of Django's own admin that its Simplified Chinese catalogue (Django 5.2) leaves in English.

Django reads the project's catalogue (LOCALE_PATHS) before its own, so translating these msgids in
locale/zh_Hans fills the gap; listing them here keeps ``make messages`` from dropping them as unused.
Remove an entry once Django's catalogue translates it.
"""

from django.utils.translation import gettext_noop

MISSING_FROM_DJANGO_ZH_HANS = [
    # The visually hidden headers of the admin index, read out by screen readers (admin/app_list.html).
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
    # The password form of a user (django.contrib.auth.forms), new in Django 5.1.
    gettext_noop(
        "Whether the user will be able to authenticate using a password or not. "
        "If disabled, they may still be able to authenticate using other backends, "
        "such as Single Sign-On or LDAP."
    ),
    # The page that adds a user (admin/auth/user/add_form.html).
    gettext_noop("After you’ve created a user, you’ll be able to edit more user options."),
    # django-simple-history's history page, for a change nobody is recorded for.
    gettext_noop("None"),
]
