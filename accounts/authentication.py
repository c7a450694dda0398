import threading
import time
from typing import Any

from rest_framework import authentication, exceptions

from .models import ApiToken, token_digest

# How long a process trusts a token it has checked: a revoked token, or a deactivated
# account, stops working within this many seconds. Each check is a database query joined to
# the account, which cost a third of a points change.
TRUSTED_SECONDS = 5.0


class HashedTokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>`, checked against the stored SHA-256 digest."""

    _checked: dict[str, tuple[float, ApiToken]] = {}
    _lock = threading.Lock()

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        digest = token_digest(key)
        with self._lock:
            held = self._checked.get(digest)
        if held is not None and held[0] > time.monotonic():
            token = held[1]
        else:
            try:
                token = ApiToken.objects.select_related("account").get(digest=digest)
            except ApiToken.DoesNotExist:
                raise exceptions.AuthenticationFailed("Invalid token.") from None
            with self._lock:
                if len(self._checked) > 10_000:
                    self._checked.clear()
                self._checked[digest] = (time.monotonic() + TRUSTED_SECONDS, token)
        if not token.account.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return token.account, token
