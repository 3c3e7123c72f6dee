"""Number and boolean fields that take a JSON body's types as the schema states them.

DRF's fields coerce: ``FloatField`` takes ``true`` (as 1.0) and ``"2.5"``, ``BooleanField`` takes
``1``, ``"yes"`` and ``"off"``, ``IntegerField`` takes ``"7"``. The schema says ``number``,
``boolean``, ``integer``, so a request body that sends another type is refused (400, naming the
field), as the schema promises. Query parameters are text by nature: a serializer read through
``hfplatform.queries.validated_query`` (context ``query``) still converts them.
"""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class _JSONTyped:
    json_types: tuple[type, ...] = ()

    def to_internal_value(self, data: Any) -> Any:
        if not self.context.get("query"):
            is_bool = isinstance(data, bool)
            if is_bool != (bool in self.json_types) or not isinstance(data, self.json_types):
                self.fail("invalid")
        return super().to_internal_value(data)


class FloatField(_JSONTyped, serializers.FloatField):
    json_types = (int, float)


class IntegerField(_JSONTyped, serializers.IntegerField):
    json_types = (int, float)  # 3.0 is an integer in JSON Schema; 3.5 is refused by DRF


class BooleanField(_JSONTyped, serializers.BooleanField):
    json_types = (bool,)
