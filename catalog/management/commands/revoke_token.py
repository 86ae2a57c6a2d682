from django.core.management.base import BaseCommand, CommandError

from catalog.tokens import TokenError, token_find, token_revoke


class Command(BaseCommand):
    help = "Revoke an API token at once, by its name or the first characters of its secret."

    def add_arguments(self, parser):
        parser.add_argument("name_or_prefix", help="The token's name, or its secret's prefix.")

    def handle(self, *args, name_or_prefix, **options):
        try:
            token = token_find(name_or_prefix)
        except TokenError as error:
            raise CommandError(str(error)) from None
        if token.revoked_at is not None:
            # Revoking again would change nothing; saying "revoked" would hide that it was.
            when = token.revoked_at.isoformat(timespec="seconds")
            self.stdout.write(
                self.style.WARNING(
                    f"token {token.name!r} was revoked already, at {when}; nothing changed"
                )
            )
            return
        token_revoke(token=token)
        self.stdout.write(self.style.SUCCESS(f"revoked token {token.name!r}"))
