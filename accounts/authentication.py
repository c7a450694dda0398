from typing import Any

from rest_framework import authentication, exceptions

from .models import ApiToken, token_digest


class HashedTokenAuthentication(authentication.TokenAuthentication):
    """`Authorization: Token <key>`, checked against the stored SHA-256 digest."""

    def authenticate_credentials(self, key: str) -> tuple[Any, ApiToken]:
        try:
            token = ApiToken.objects.select_related("account").get(digest=token_digest(key))
        except ApiToken.DoesNotExist:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        if not token.account.is_active:
            raise exceptions.AuthenticationFailed("User inactive or deleted.")
        return token.account, token
