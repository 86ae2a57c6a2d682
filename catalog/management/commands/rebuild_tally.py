from django.core.management.base import BaseCommand

from catalog import tally


class Command(BaseCommand):
    help = (
        "Count every image again for the admin's overview. The writes keep the counts "
        "themselves; run this after changing image rows by hand (SQL, a restored backup "
        "of only some tables), while nothing else writes images."
    )

    def handle(self, *args, **options):
        was = tally.stored()
        tally.rebuild()
        now = tally.stored()
        changed = sum(1 for key in was.keys() | now.keys() if was[key] != now[key])
        total = sum(n for (dimension, _), n in now.items() if dimension == tally.STATUS)
        self.stdout.write(
            self.style.SUCCESS(
                f"counted {total} images; {changed} of the overview's counts were different"
            )
        )
