"""factory_boy factories: every test builds its world from here."""

import datetime
import itertools

import factory
from django.contrib.auth import get_user_model

from organizations.models import Organization, OrganizationKind, Post
from registers.identity import check_character
from registers.models import Member

_id_sequence = itertools.count(1)


def valid_id_number(birth: datetime.date = datetime.date(1980, 5, 17), region: str = "140123") -> str:
    """A fresh ID number with a correct GB 11643 check digit."""
    serial = f"{next(_id_sequence) % 1000:03d}"
    first = f"{region}{birth:%Y%m%d}{serial}"
    return first + check_character(first)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Sequence(lambda n: f"用户{n}")

    @factory.post_generation
    def password(user, create, extracted, **kwargs):
        user.set_password(extracted or "pw")
        if create:
            user.save(update_fields=["password"])


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization

    name = factory.Sequence(lambda n: f"组织{n}")
    code = factory.Sequence(lambda n: f"ORG{n}")
    kind = OrganizationKind.VILLAGE


class PostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Post

    user = factory.SubFactory(UserFactory)
    organization = factory.SubFactory(OrganizationFactory)


class MemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Member

    name = factory.Sequence(lambda n: f"成员{n}")
    id_number = factory.LazyFunction(valid_id_number)
    household = factory.Sequence(lambda n: f"H{n // 3:03d}")
