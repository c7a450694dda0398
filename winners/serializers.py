from typing import Any

from rest_framework import serializers

from leaderboard.api import IS_MONGODB, IdField, QueryInteger, public_id

from .models import Winner


class WinnerUserSerializer(serializers.Serializer[Any]):
    id = IdField()
    name = serializers.CharField()


class WinnerSerializer(serializers.ModelSerializer[Winner]):
    id = IdField()
    user = WinnerUserSerializer()

    class Meta:
        model = Winner
        fields = ["id", "user", "points", "slot", "won_at"]

    def to_representation(self, winner: Winner) -> dict[str, Any]:
        data = super().to_representation(winner)
        data["user"] = {"id": public_id(winner.user.pk), "name": winner.user.name}
        return data


def _user_id() -> serializers.Field:
    """A user's id as the API gives it: a whole number on SQL databases, a 24-digit hex
    string (an ObjectId) on MongoDB."""
    help_text = "Only this user's wins (a user's id)."
    if IS_MONGODB:
        message = "user must be a user's id: 24 hexadecimal digits."
        return serializers.RegexField(
            r"^[0-9a-f]{24}$",
            required=False,
            help_text=help_text,
            error_messages={"invalid": message, "blank": message},
        )
    message = "user must be a user's id: a whole number."
    return QueryInteger(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text=help_text,
        error_messages={
            key: message for key in ("invalid", "min_value", "max_value", "max_string_length")
        },
    )


class WinnersQuerySerializer(serializers.Serializer[Any]):
    user = _user_id()
