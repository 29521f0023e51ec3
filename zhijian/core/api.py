"""Shared API pieces: pagination, the service-error bridge, the public permission."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, permissions, serializers, viewsets

from .access import Denied
from .models import AuditCheckpoint, PublicKey


def service_call(fn, *args, **kwargs):
    """Run a service and turn its errors into the API's one error format."""
    try:
        return fn(*args, **kwargs)
    except DjangoValidationError as exc:
        if hasattr(exc, "error_dict"):
            raise exceptions.ValidationError(exc.message_dict) from exc
        raise exceptions.ValidationError({"non_field_errors": exc.messages}) from exc
    except Denied as exc:
        if exc.field:
            raise exceptions.PermissionDenied({exc.field: [exc.message]}) from exc
        raise exceptions.PermissionDenied(exc.message) from exc


class ReadOnlyOrAuthenticated(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.method in permissions.SAFE_METHODS or bool(
            request.user and request.user.is_authenticated
        )


# --- public audit endpoints ------------------------------------------------------------------



class CheckpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditCheckpoint
        fields = ["seq", "hash", "ts", "key_id", "statement", "signature"]


class PublicKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = PublicKey
        fields = ["key_id", "purpose", "public_key", "created_at", "retired_at"]


class CheckpointViewSet(viewsets.ReadOnlyModelViewSet):
    """Signed audit-log checkpoints: anyone can check that the log they are later shown
    extends these (docs/audit.md explains the check with any Ed25519 tool)."""

    serializer_class = CheckpointSerializer
    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    queryset = AuditCheckpoint.objects.all()
    lookup_field = "seq"


class PublicKeyViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = PublicKeySerializer
    permission_classes = [permissions.AllowAny]
    authentication_classes = []
    queryset = PublicKey.objects.all()
    lookup_field = "key_id"
    pagination_class = None
