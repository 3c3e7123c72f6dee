"""API for accounts: token login and "who am I"."""

from __future__ import annotations

from django.contrib.auth import authenticate
from drf_spectacular.utils import extend_schema, extend_schema_serializer
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from hfplatform import json_fields
from hfplatform.accounts.login_limits import (
    client_address,
    login_failed,
    login_succeeded,
    login_wait,
    wait_message,
)
from hfplatform.accounts.roles import user_roles
from hfplatform.accounts.services import token_for
from hfplatform.audit.services import audit_record
from hfplatform.errors import ApplicationError


class TokenObtainApi(APIView):
    """Exchange a username and password for an API token (``Authorization: Token <key>``)."""

    error_statuses = (401, 429)  # wrong credentials; sign-in limits

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema_serializer(component_name="TokenRequest")
    class InputSerializer(serializers.Serializer):
        username = serializers.CharField()
        password = serializers.CharField(style={"input_type": "password"}, trim_whitespace=False)

    @extend_schema_serializer(component_name="Token")
    class OutputSerializer(serializers.Serializer):
        token = serializers.CharField()
        username = serializers.CharField()
        roles = serializers.ListField(child=serializers.CharField())

    @extend_schema(request=InputSerializer, responses={200: OutputSerializer}, auth=[])
    def post(self, request: Request) -> Response:
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        username, address = data.validated_data["username"], client_address(request._request)
        wait = login_wait(username=username, address=address)
        if wait:
            response = Response({"detail": wait_message(wait), "code": "too_many_attempts"},
                                status=status.HTTP_429_TOO_MANY_REQUESTS)
            response["Retry-After"] = str(wait)
            return response
        user = authenticate(request=request._request, **data.validated_data)
        if user is None:
            login_failed(username=username, address=address)
            raise ApplicationError(
                "Wrong username or password, or the account is disabled.",
                code="invalid_credentials", status_code=status.HTTP_401_UNAUTHORIZED,
            )
        login_succeeded(username=username)
        audit_record(action="login", target=user, actor=user, detail={"via": "token"},
                     summary=f"{user.get_username()} got an API token")
        body = {"token": token_for(user=user), "username": user.get_username(),
                "roles": sorted(user_roles(user))}
        return Response(self.OutputSerializer(body).data)


class MeApi(APIView):
    """The signed-in user and their roles."""

    @extend_schema_serializer(component_name="Me")
    class OutputSerializer(serializers.Serializer):
        id = json_fields.IntegerField()
        username = serializers.CharField()
        roles = serializers.ListField(child=serializers.CharField())

    @extend_schema(responses={200: OutputSerializer})
    def get(self, request: Request) -> Response:
        user = request.user
        body = {"id": user.pk, "username": user.get_username(), "roles": sorted(user_roles(user))}
        return Response(self.OutputSerializer(body).data)
