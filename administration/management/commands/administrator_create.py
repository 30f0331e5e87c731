"""``manage.py administrator_create USERNAME ROLE ORGANISATION_CODE``: an administrator's account, on the command line.

The three administrators' posts are made here by the maintenance operator, never on a page: a system
administrator who could make a security or audit administrator would hold all three powers.
"""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from administration.log import security_log
from administration.models import AccountProfile, EventKind
from administration.services import initial_password
from organizations.models import ADMINISTRATOR_ROLES, Organization, Post


class Command(BaseCommand):
    help = "Create an administrator (system_admin, security_admin or audit_admin) with a one-time password."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("role", choices=sorted(ADMINISTRATOR_ROLES))
        parser.add_argument("organization", help="Code of the organisation the post covers (e.g. the county).")

    @transaction.atomic
    def handle(self, *args, username, role, organization, **options):
        place = Organization.objects.filter(code=organization).first()
        if place is None:
            raise CommandError(f"No organisation with code {organization}")
        user_model = get_user_model()
        if user_model.objects.filter(username=username).exists():
            raise CommandError(f"{username} exists: an administrator gets an account of its own")
        password = initial_password()
        user = user_model.objects.create_user(username=username, password=password)
        post = Post(user=user, organization=place, role=role)
        try:
            post.full_clean()
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        post.save()
        AccountProfile.objects.create(user=user, home_organization=place, must_change_password=True)
        security_log(
            kind=EventKind.POST_GRANTED,
            actor_name="manage.py administrator_create",
            organization=place,
            obj=post,
            description=f"Administrator post created on the command line: {post}",
        )
        self.stdout.write(f"{username}: {post}\none-time password (change it at the first login): {password}")
