from typing import Any

from rest_framework import serializers

from leaderboard.api import IdField, public_id

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


class WinnersQuerySerializer(serializers.Serializer[Any]):
    user = serializers.CharField(
        required=False, max_length=64, help_text="Only this user's wins (a user's id)."
    )
