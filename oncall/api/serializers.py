"""Read serializers for the on-call API: they render what the selectors computed, without
further queries. A person's phone is shown only to those who may read profiles."""

from rest_framework import serializers

from ..models import Layer, Schedule


class PersonSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.CharField()
    chat_handle = serializers.CharField(allow_blank=True)
    phone = serializers.CharField(
        required=False, help_text="Only for viewers who may read profiles; absent otherwise."
    )

    def to_representation(self, user):
        profile = getattr(user, "profile", None)
        data = {
            "username": user.get_username(),
            "name": user.get_full_name() or user.get_username(),
            "chat_handle": getattr(profile, "chat_handle", "") or "",
        }
        if self.context.get("show_phone"):
            data["phone"] = getattr(profile, "phone", "") or ""
        return data


class LayerBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Layer
        fields = ["id", "name", "level"]


class LayerSerializer(serializers.ModelSerializer):
    kind_display = serializers.CharField(source="get_kind_display")

    class Meta:
        model = Layer
        fields = [
            "id",
            "name",
            "level",
            "kind",
            "kind_display",
            "every",
            "start_date",
            "handoff_time",
            "active_from",
            "active_until",
            "active_days",
        ]


class ScheduleSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    layers = LayerSerializer(many=True, read_only=True)

    class Meta:
        model = Schedule
        fields = ["id", "name", "slug", "team", "time_zone", "description", "layers"]


class OnCallEntrySerializer(serializers.Serializer):
    """Who a layer has on call now, until when, and how (rotation, cover or override)."""

    layer = LayerBriefSerializer()
    person = PersonSerializer(source="user", allow_null=True)
    until = serializers.DateTimeField(allow_null=True)
    kind = serializers.CharField(help_text="rotation, cover (for a skipped person) or override")

    def to_representation(self, entry):
        return {
            "layer": LayerBriefSerializer(entry.layer).data,
            "person": PersonSerializer(entry.user, context=self.context).data
            if entry.user
            else None,
            "until": serializers.DateTimeField().to_representation(entry.until)
            if entry.user and entry.until
            else None,
            "kind": entry.kind,
        }


class ScheduleOnCallSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="schedule.pk")
    name = serializers.CharField(source="schedule.name")
    slug = serializers.CharField(source="schedule.slug")
    team = serializers.CharField(source="schedule.team.slug")
    time_zone = serializers.CharField(source="schedule.time_zone")
    on_call = OnCallEntrySerializer(source="final", allow_null=True)
    layers = OnCallEntrySerializer(many=True)


class ShiftSerializer(serializers.Serializer):
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    person = PersonSerializer()
    kind = serializers.CharField()
    override_id = serializers.IntegerField(allow_null=True)
    covers = serializers.CharField(allow_null=True, help_text="Username of who was skipped.")
    layer = serializers.IntegerField(help_text="The layer's id.")

    def to_representation(self, span):
        people = self.context["people"]
        covered = people.get(span.covers_user_id) if span.covers_user_id else None
        return {
            "start": serializers.DateTimeField().to_representation(span.start),
            "end": serializers.DateTimeField().to_representation(span.end),
            "person": PersonSerializer(people[span.user_id], context=self.context).data,
            "kind": span.kind,
            "override_id": span.override_id,
            "covers": covered.get_username() if covered else None,
            "layer": span.layer_id,
        }


class LayerShiftsSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    level = serializers.IntegerField()
    shifts = ShiftSerializer(many=True)


class ScheduleShiftsSerializer(serializers.Serializer):
    schedule = serializers.IntegerField()
    time_zone = serializers.CharField()
    start = serializers.DateTimeField()
    end = serializers.DateTimeField()
    layers = LayerShiftsSerializer(many=True)
    final = ShiftSerializer(many=True, help_text="At each moment, the lowest level with someone.")

    def to_representation(self, shifts):
        shift = ShiftSerializer(context={**self.context, "people": shifts.people})
        stamp = serializers.DateTimeField().to_representation
        return {
            "schedule": shifts.schedule.pk,
            "time_zone": shifts.schedule.time_zone,
            "start": stamp(shifts.start),
            "end": stamp(shifts.end),
            "layers": [
                {
                    "id": row.layer.pk,
                    "name": row.layer.name,
                    "level": row.layer.level,
                    "shifts": [shift.to_representation(span) for span in row.spans],
                }
                for row in shifts.layers
            ],
            "final": [shift.to_representation(span) for span in shifts.final],
        }
