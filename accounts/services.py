from django.contrib.auth import get_user_model

from .models import ApiToken


def token_issue(*, username: str) -> str:
    """Create a token for the account (creating the account if needed) and return its key.

    Every call issues a new key; earlier keys keep working until deleted in the admin.
    """
    account, _ = get_user_model().objects.get_or_create(username=username)
    token = ApiToken(account=account)
    key = token.set_new_key()
    token.save()
    return key
