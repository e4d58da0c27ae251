from rest_framework import serializers


class FlagStateSerializer(serializers.Serializer):
    name = serializers.CharField()
    kind = serializers.CharField()
    description = serializers.CharField()
    gates = serializers.CharField()
    enabled = serializers.BooleanField(help_text="the effective state for this request")
    override = serializers.BooleanField(allow_null=True, help_text="NT_FLAG_<NAME> in force, if any")
    last_change = serializers.DictField(allow_null=True)


class FlagUpdateSerializer(serializers.Serializer):
    enabled = serializers.BooleanField()
