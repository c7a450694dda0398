#!/usr/bin/env python
import contextlib
import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leaderboard.settings.local")
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from leaderboard.embedded_redis import start_for_command

    if sys.argv[1:2] != ["serve"]:  # serve supervises the embedded Redis itself
        # On a settings error, the command below reports it in Django's own words.
        with contextlib.suppress(ImproperlyConfigured):
            start_for_command()
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
