from django.core.management.base import BaseCommand, CommandError

from catalog.tokens import TokenError, token_create


class Command(BaseCommand):
    help = "Create an API token and print its secret (shown this once; only a hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True, help="Project id the token acts for.")
        parser.add_argument(
            "--roles", default="member", help="Comma-separated roles, e.g. reader or admin."
        )
        parser.add_argument("--name", help="A unique name (default: project and secret prefix).")
        parser.add_argument(
            "--expires-in", type=int, metavar="DAYS", help="Expire after this many days."
        )
        parser.add_argument(
            "--token",
            metavar="SECRET",
            help="Use this known secret (at least 20 URL-safe characters, not starting with -) "
            "instead of a random one; give it as --token=SECRET.",
        )

    def handle(self, *args, project, roles, name, expires_in, token, **options):
        try:
            created, secret = token_create(
                project=project,
                roles=roles.split(","),
                name=name,
                expires_in_days=expires_in,
                secret=token,
            )
        except TokenError as error:
            raise CommandError(str(error)) from None
        self.stderr.write(
            self.style.SUCCESS(
                f"created token {created.name!r} for project {created.project} "
                f"with roles {created.roles}; its secret follows and is not shown again"
            )
        )
        self.stdout.write(secret)
