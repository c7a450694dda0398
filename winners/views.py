from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, viewsets

from .models import Winner
from .selectors import winner_list
from .serializers import WinnerSerializer


@extend_schema_view(list=extend_schema(summary="Winners, newest first"))
class WinnerViewSet(mixins.ListModelMixin, viewsets.GenericViewSet[Winner]):
    serializer_class = WinnerSerializer

    def get_queryset(self) -> QuerySet[Winner]:
        return winner_list()
