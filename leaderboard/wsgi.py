import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leaderboard.settings.local")
django.setup(set_prefix=False)

from leaderboard.handlers import Application  # noqa: E402  (needs the settings)

application = Application()
