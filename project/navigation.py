"""The navigation bar: entries grouped by what a person does, each shown only to the roles that can use it.

One list, ``ENTRIES``: a page joins the bar by adding a line here, with the roles its view lets in
(import the role set the view itself checks, so that the bar and the permission cannot drift apart).
``tests/project/test_navigation.py`` opens every entry as every persona who sees it.
"""

from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from documents.review import FLAG_READER_ROLES, LOG_READER_ROLES
from flows.delegation import DELEGABLE_ROLES
from flows.models import Step
from flows.services import HOLDER_ROLES, STEP_ROLES
from imports.services import ACCOUNT_IMPORT_ROLES, IMPORT_ROLES
from organizations.jurisdiction import READ_ONLY_ROLES, user_posts
from organizations.models import ADMINISTRATOR_ROLES, Role
from oversight.views import OVERSIGHT_ROLES
from rulebook.services import RULE_READER_ROLES

# Who may see an entry: everyone (also signed out), anyone holding a post, the staff, or these roles.
EVERYONE, ANY_POST, STAFF = "everyone", "any_post", "staff"

GROUPS = [
    ("work", _("Tasks and matters")),
    ("meetings", _("Meetings and publication")),
    ("registers", _("Registers")),
    ("oversight", _("Archive and oversight")),
    ("admin", _("Administration")),
]


@dataclass(frozen=True)
class Entry:
    group: str
    label: str
    url_name: str
    audience: str | frozenset
    element_id: str = ""  # for pages and tests that point at the link

    def shown_to(self, user, roles: set[str]) -> bool:
        if self.audience == EVERYONE:
            return True
        if not user.is_authenticated:
            return False
        if self.audience == STAFF:
            return user.is_staff
        if self.audience == ANY_POST:
            # The three administrators' posts open no business data (organizations/jurisdiction.py).
            return bool(roles - ADMINISTRATOR_ROLES)
        return bool(roles & self.audience)


ACTING_ROLES = frozenset(role for roles in HOLDER_ROLES.values() for role in roles)

ENTRIES = [
    Entry("work", _("Inbox"), "flows:inbox", ACTING_ROLES),
    Entry("work", _("Matters"), "flows:matter_list", ANY_POST),
    Entry("work", _("New application"), "flows:matter_new", frozenset(STEP_ROLES[Step.APPLY])),
    Entry("work", _("Delegations"), "flows:delegations", DELEGABLE_ROLES),
    Entry("meetings", _("Meetings"), "flows:meeting_list", ANY_POST),
    Entry("meetings", _("Record a meeting"), "flows:meeting_create", frozenset({Role.VILLAGE_SUPERVISOR})),
    Entry("meetings", _("Public board"), "board:index", EVERYONE),
    Entry("registers", _("Assets"), "registers:asset_list", ANY_POST),
    Entry("registers", _("Funds"), "registers:fund_account_list", ANY_POST),
    Entry("registers", _("Resources"), "registers:resource_list", ANY_POST),
    Entry("registers", _("Contracts"), "registers:contract_list", ANY_POST),
    Entry("registers", _("Members"), "registers:member_list", ANY_POST),
    Entry("registers", _("Shares"), "registers:share_holdings", ANY_POST),
    # Loading a county's registers; under the registers, so that the county's header stays one line at 1024.
    Entry("registers", _("Import from Excel"), "imports:home", IMPORT_ROLES, "nav-imports"),
    Entry("oversight", _("Statistics"), "oversight:home", OVERSIGHT_ROLES),
    Entry("oversight", _("Early warnings"), "registers:warning_list", ANY_POST, "nav-warnings"),
    Entry("oversight", _("Archive search"), "documents:archive_search", ANY_POST),
    Entry("oversight", _("Inspector flags"), "documents:flag_list", FLAG_READER_ROLES),
    Entry("oversight", _("Correction requests"), "documents:correction_list", ANY_POST),
    Entry("oversight", _("Ledger"), "documents:ledger", READ_ONLY_ROLES),
    Entry("oversight", _("Verify a document"), "documents:verify", EVERYONE),
    # The rules every matter is checked against: read by the inspector, edited by the county administrator.
    Entry("oversight", _("Rule tables"), "rulebook:index", RULE_READER_ROLES, "nav-rules"),
    Entry("admin", _("Accounts and posts"), "administration:accounts", frozenset({Role.SYSTEM_ADMIN})),
    Entry("admin", _("Organisations"), "administration:organizations", frozenset({Role.SYSTEM_ADMIN})),
    Entry("admin", _("Import accounts from Excel"), "imports:home", ACCOUNT_IMPORT_ROLES, "nav-account-imports"),
    Entry("admin", _("Security policy"), "administration:policy", frozenset({Role.SECURITY_ADMIN})),
    Entry("admin", _("Lockouts"), "administration:lockouts", frozenset({Role.SECURITY_ADMIN})),
    Entry("admin", _("Sessions"), "administration:sessions", frozenset({Role.SECURITY_ADMIN})),
    Entry("admin", _("Two-factor and passwords"), "administration:security_accounts", frozenset({Role.SECURITY_ADMIN})),
    Entry(
        "admin",
        _("Initial passwords of imports"),
        "imports:password_jobs",
        frozenset({Role.SECURITY_ADMIN}),
        "nav-import-passwords",
    ),
    Entry("admin", _("Security log"), "administration:security_log", frozenset({Role.AUDIT_ADMIN})),
    Entry("admin", _("Check the log"), "administration:security_log_verify", frozenset({Role.AUDIT_ADMIN})),
    Entry("admin", _("Access log"), "documents:access_log", LOG_READER_ROLES),
    Entry("admin", _("Organisations, people and rules"), "admin:index", STAFF),
]


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    current: bool
    element_id: str = ""


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    links: list[Link]

    @property
    def current(self) -> bool:
        return any(link.current for link in self.links)


def entries_for(user) -> list[Entry]:
    roles = {post.role for post in user_posts(user)}
    return [entry for entry in ENTRIES if entry.shown_to(user, roles)]


def navigation_for(user, path: str = "") -> list[Group]:
    """The groups the user sees, in order, each with the links they may open; empty groups are left out."""
    entries = entries_for(user)
    groups = []
    for key, label in GROUPS:
        links = []
        for entry in entries:
            if entry.group != key:
                continue
            url = reverse(entry.url_name)
            current = path == url if url == "/" else path.startswith(url)
            links.append(Link(label=str(entry.label), url=url, current=current, element_id=entry.element_id))
        if links:
            groups.append(Group(key=key, label=str(label), links=links))
    return groups


def navigation(request) -> dict:
    """Context processor: ``site_navigation`` for base.html."""
    user = getattr(request, "user", None)
    if user is None:
        return {}
    return {"site_navigation": navigation_for(user, request.path)}
