import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone


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

    # The plain key, only on the instance that just made it (see ApiTokenAdmin).
    new_key: str

    class Meta:
        verbose_name = "API token"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.account})"

    def set_new_key(self) -> str:
        """Give the token a fresh random key and return it; only its digest is kept."""
        key = secrets.token_hex(20)
        self.digest, self.prefix = token_digest(key), key[:8]
        return key


class IdempotentRequest(models.Model):
    """The first answer to a write sent with an ``Idempotency-Key``, kept so that a retry
    gets it again instead of writing twice. Saved in the same transaction as the write."""

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    key = models.CharField(max_length=255)
    # SHA-256 of the method, the path and the body: the same key with another request is a 422.
    fingerprint = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "key"], name="accounts_one_request_per_key")
        ]
        indexes = [models.Index(fields=["created_at"], name="accounts_idem_created_idx")]

    def __str__(self) -> str:
        return f"{self.key} ({self.account_id})"
