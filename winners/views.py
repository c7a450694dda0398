from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from .models import Winner
from .selectors import winner_list
from .serializers import WinnerSerializer, WinnersQuerySerializer


@extend_schema_view(
    list=extend_schema(summary="Winners, newest first", parameters=[WinnersQuerySerializer])
)
class WinnerViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Winner]):
    serializer_class = WinnerSerializer

    def get_queryset(self) -> QuerySet[Winner]:
        query = WinnersQuerySerializer(data=self.request.query_params.dict())
        query.is_valid(raise_exception=True)
        return winner_list(user_id=query.validated_data.get("user"))
