"""The OpenAPI document says what the API really does: public reads are marked public, and
every status an operation can answer is listed, with one error shape."""

from __future__ import annotations

from typing import Any

from drf_spectacular import openapi
from rest_framework import permissions

from .http import bodies
from .http.limits import MAX_ANSWER_BYTES

# DRF's error shape: {"detail": "..."}, or field names with lists of messages.
ERROR = {
    "type": "object",
    "additionalProperties": {
        "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]
    },
    "example": {"detail": "What went wrong, in plain words."},
}


# What drf-spectacular offers beside a pattern when a field allows blanks.
BLANK = {"type": "string", "maxLength": 0}


class AutoSchema(openapi.AutoSchema):
    def _insert_field_validators(self, field: Any, schema: dict[str, Any]) -> None:
        super()._insert_field_validators(field, schema)
        # drf-spectacular offers "" beside a pattern that accepts "" already. Under oneOf, ""
        # then matches both choices and so neither: the schema would refuse a blank address.
        if schema.get("oneOf", [None])[-1] == BLANK:
            schema["anyOf"] = schema.pop("oneOf")

    def get_auth(self) -> list[dict[str, Any]]:
        if self.method in permissions.SAFE_METHODS:
            return []  # reads are anonymous
        return super().get_auth()

    def get_operation(self, *args: Any, **kwargs: Any) -> dict[str, Any] | None:
        operation: dict[str, Any] | None = super().get_operation(*args, **kwargs)
        if operation is not None:
            for status, meaning in self._errors(operation).items():
                operation["responses"].setdefault(status, _error(meaning))
            if self.method in permissions.SAFE_METHODS:
                operation["description"] = (
                    operation.get("description", "")
                    + f"\n\nNo anonymous answer is larger than {MAX_ANSWER_BYTES // 2**20} MB; "
                    "JSON answers are gzip-compressed for `Accept-Encoding: gzip`."
                ).strip()
        return operation

    def _errors(self, operation: dict[str, Any]) -> dict[str, str]:
        write = self.method not in permissions.SAFE_METHODS
        action = getattr(self.view, "action", None)
        errors = {}
        if operation.get("parameters") or operation.get("requestBody"):
            errors["400"] = "A parameter or a field is not allowed; the answer says which."
        errors["401"] = (
            "A token is missing or wrong (writes need one; a wrong one fails reads too)."
        )
        if write:
            errors["403"] = "Signed in, but not as staff; or a session write without CSRF."
        if "{id}" in self.path:
            errors["404"] = "There is no such user (or it was deleted)."
        if write:
            errors["408"] = "The request body did not arrive in time (a whole deadline)."
            errors["411"] = bodies.LENGTH_REQUIRED + " (a server that cannot read chunks)"
        if action in {"increment", "decrement"}:
            errors["409"] = "The change would take points below 0 (or past the maximum)."
        if write:
            errors["413"] = bodies.TOO_LARGE
            errors["415"] = "The body is not JSON (Content-Type: application/json)."
        errors["414"] = bodies.URL_TOO_LONG
        if action == "create":
            errors["410"] = "This Idempotency-Key's create was done before; its user is deleted."
        if action in {"create", "increment", "decrement"}:
            errors["422"] = "This Idempotency-Key came before with a different request."
        errors["429"] = "Too many requests from this address or account: see Retry-After."
        errors["503"] = (
            "The database did not answer, or a read the index could not serve took too "
            "long: try again after Retry-After."
        )
        return errors


def _error(meaning: str) -> dict[str, Any]:
    return {"description": meaning, "content": {"application/json": {"schema": ERROR}}}
