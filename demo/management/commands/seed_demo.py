"""``manage.py seed_demo``: the demo county, its people and registers; ``--print-logins`` prints the login sheet."""

from django.core.management.base import BaseCommand

from demo.seed import DEFAULT_PASSWORD, demo_logins, demo_seed, format_table


class Command(BaseCommand):
    help = "Create whatever is missing of the demo county (places, rules, users, members, assets)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--password",
            default=DEFAULT_PASSWORD,
            help="Password of newly created demo users (existing users keep theirs).",
        )
        parser.add_argument(
            "--print-logins", action="store_true", help="Print the demo users' logins and exit (seeds first if empty)."
        )

    def handle(self, *args, password, print_logins, **options):
        if print_logins and demo_logins():
            self.print_logins(password)
            return
        report = demo_seed(password=password)
        for kind in sorted(set(report.created) | set(report.kept)):
            self.stdout.write(f"{kind}: {report.created[kind]} created, {report.kept[kind]} already there")
        if print_logins:
            self.print_logins(password)

    def print_logins(self, password: str) -> None:
        rows = [("用户名 username", "姓名 name", "岗位 role", "单位 place", "密码 password")]
        rows += [(login.username, login.name, login.role, login.place, password) for login in demo_logins()]
        self.stdout.write(format_table(rows))
        self.stdout.write(f"\n密码为首次创建时所设（默认 {DEFAULT_PASSWORD}）。Passwords are as first seeded.")
