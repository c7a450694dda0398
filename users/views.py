"""The users API. Views translate HTTP to the services and selectors, and nothing more."""

from collections.abc import Iterator
from contextlib import contextmanager

from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from . import selectors, services
from .filters import LeaderboardFilter
from .models import User
from .serializers import (
    GroupsQuerySerializer,
    PointsChangeSerializer,
    ScoreGroupSerializer,
    UserInputSerializer,
    UserSerializer,
)


class PointsConflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "points_out_of_range"


class UserNotFound(exceptions.NotFound):
    default_detail = "No such user."


@extend_schema_view(
    list=extend_schema(summary="The leaderboard, best first"),
    create=extend_schema(
        summary="Add a user (with 0 points)",
        request=UserInputSerializer,
        responses={201: UserSerializer},
    ),
    retrieve=extend_schema(summary="One user, with rank"),
    update=extend_schema(summary="Replace name, age and address", request=UserInputSerializer),
    partial_update=extend_schema(
        summary="Change name, age and/or address", request=UserInputSerializer
    ),
    destroy=extend_schema(summary="Delete a user"),
)
class UserViewSet(viewsets.GenericViewSet[User]):
    serializer_class = UserSerializer
    queryset = User.objects.none()  # every read goes through the selectors
    filter_backends = [DjangoFilterBackend]  # documents ?points= in the schema
    filterset_class = LeaderboardFilter

    def list(self, request: Request) -> Response:
        filters = LeaderboardFilter(request.query_params, queryset=User.objects.none())
        if not filters.is_valid():
            raise exceptions.ValidationError(filters.errors)
        board = selectors.Leaderboard(points=filters.form.cleaned_data["points"])
        page = self.paginate_queryset(board)  # type: ignore[arg-type]
        return self.get_paginated_response(UserSerializer(page, many=True).data)

    def create(self, request: Request) -> Response:
        serializer = UserInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_create(**serializer.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)

    def retrieve(self, request: Request, pk: str) -> Response:
        with _user_not_found():
            user = selectors.user_get(user_id=pk)
        return Response(UserSerializer(user).data)

    def update(self, request: Request, pk: str, partial: bool = False) -> Response:
        serializer = UserInputSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        with _user_not_found():
            user = services.user_update(user_id=pk, **serializer.validated_data)
        return Response(UserSerializer(user).data)

    def partial_update(self, request: Request, pk: str) -> Response:
        return self.update(request, pk, partial=True)

    def destroy(self, request: Request, pk: str) -> Response:
        with _user_not_found():
            services.user_delete(user_id=pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Add points (default 1)",
        request=PointsChangeSerializer,
        responses={200: UserSerializer, 409: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["post"])
    def increment(self, request: Request, pk: str) -> Response:
        return self._change_points(request, pk, sign=+1)

    @extend_schema(
        summary="Take points away (default 1); 409 if that would go below 0",
        request=PointsChangeSerializer,
        responses={200: UserSerializer, 409: OpenApiTypes.OBJECT},
    )
    @action(detail=True, methods=["post"])
    def decrement(self, request: Request, pk: str) -> Response:
        return self._change_points(request, pk, sign=-1)

    def _change_points(self, request: Request, pk: str, *, sign: int) -> Response:
        serializer = PointsChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with _user_not_found():
            try:
                user = services.points_change(
                    user_id=pk, delta=sign * serializer.validated_data["by"]
                )
            except services.PointsOutOfRange as exc:
                raise PointsConflict(str(exc)) from exc
        return Response(UserSerializer(user).data)

    @extend_schema(
        summary="Users grouped by points, highest first, with count and average age",
        parameters=[
            OpenApiParameter("users_per_group", int, description="1-1000, default 100."),
        ],
        responses=ScoreGroupSerializer(many=True),
        filters=False,
    )
    @action(detail=False, methods=["get"], url_path="grouped-by-score", filterset_class=None)
    def grouped_by_score(self, request: Request) -> Response:
        query = GroupsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        groups = selectors.ScoreGroups(users_per_group=query.validated_data["users_per_group"])
        page = self.paginate_queryset(groups)  # type: ignore[arg-type]
        return self.get_paginated_response(ScoreGroupSerializer(page, many=True).data)


@contextmanager
def _user_not_found() -> Iterator[None]:
    """Turn ``User.DoesNotExist`` from a service or selector into a 404."""
    try:
        yield
    except User.DoesNotExist as exc:
        raise UserNotFound from exc
