import hashlib
import secrets

from django.conf import settings
from django.db import models


def token_digest(key: str) -> str:
    """SHA-256 of a key. Keys are 160 random bits, so a fast hash is enough to make a dump
    of this table useless to an attacker."""
    return hashlib.sha256(key.encode()).hexdigest()


class ApiToken(models.Model):
    """A write token for the API. Only the digest is stored; the key is shown once."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    digest = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(
        max_length=8, editable=False, help_text="The key's first characters, to tell keys apart."
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.account})"

    def set_new_key(self) -> str:
        """Give the token a fresh random key and return it; only its digest is kept."""
        key = secrets.token_hex(20)
        self.digest, self.prefix = token_digest(key), key[:8]
        return key
