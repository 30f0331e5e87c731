"""The Django admin is for the maintenance superuser only, made on the command line (createsuperuser).

Daily work never needs it: the three administrators have their own pages (administration/views.py), and
business administrators none of its powers. A staff flag alone opens nothing here.
"""

from django.contrib import admin


def maintenance_only(request) -> bool:
    return request.user.is_active and request.user.is_superuser


admin.site.has_permission = maintenance_only
