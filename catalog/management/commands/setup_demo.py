from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from catalog.catalog_file import read_catalog
from catalog.models import Image
from catalog.services import images_import
from catalog.tokens import token_reset

SAMPLE_CATALOG = Path(__file__).resolve().parents[2] / "fixtures" / "sample-catalog.json"

DEMO_USER = "admin"
DEMO_PASSWORD = "admin"
# Known secrets, so that a local environment and its scripts can be written against them.
DEMO_TOKENS = (
    ("demo-member", "6a7f0c2e3b9d4e1f8a5b6c7d8e9f0a1b", "member", "demo-member-token-0123456789"),
    ("demo-admin", "23f4cb75768d4febb39542ef6fe169f3", "admin", "demo-admin-token-0123456789"),
)


class Command(BaseCommand):
    help = (
        "Load the sample catalog into an empty database, create the local demo login and "
        "API tokens, and print them. Running it again changes no image. "
        "For development only: refused when DJANGO_DEBUG is off."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000, help="Port printed in the examples.")

    def handle(self, *args, port, **options):
        if not settings.DEBUG:
            raise CommandError(
                "setup_demo creates well-known credentials; it only runs with DEBUG on"
            )
        if not Image.objects.exists():
            with SAMPLE_CATALOG.open("rb") as stream:
                result = images_import(entries=read_catalog(stream))
            self.stdout.write(f"loaded {result.created} images from the sample catalog")
        user, _ = get_user_model().objects.get_or_create(
            username=DEMO_USER, defaults={"is_staff": True, "is_superuser": True}
        )
        user.set_password(DEMO_PASSWORD)
        user.save()
        for name, project, role, secret in DEMO_TOKENS:
            # Running again resets the demo tokens to their known state.
            token_reset(name=name, project=project, roles=[role], secret=secret)

        base = f"http://127.0.0.1:{port}"
        member_secret, admin_secret = DEMO_TOKENS[0][3], DEMO_TOKENS[1][3]
        self.stdout.write(
            f"""
  Admin site:   {base}/admin/   user {DEMO_USER!r}, password {DEMO_PASSWORD!r}
  API tokens:   {member_secret}  (project {DEMO_TOKENS[0][1]}, role member)
                {admin_secret}   (project {DEMO_TOKENS[1][1]}, role admin)
  Try:          curl -H 'X-Auth-Token: {member_secret}' '{base}/v1.1/images/detail?status=active'
"""
        )
