"""Shapes of /api/hotline/contacts/ and the visits API: ContactInput types the body the view reads; the others
describe the answers for the OpenAPI schema."""

from rest_framework import serializers

from tickets.models import Satisfaction

from .models import Channel, ContactType, Outcome


class ContactInput(serializers.Serializer):
    """A new contact, typed (an object where text belongs is a 400); hotline.services.contact_create checks the rest.
    Ids may come as numbers or as the strings a form sends."""

    channel = serializers.ChoiceField(Channel.choices)
    type = serializers.ChoiceField(ContactType.choices)
    content = serializers.CharField(max_length=4000, help_text="What the caller says.")
    outcome = serializers.ChoiceField(Outcome.choices, help_text="direct: answered on the spot; linked: joins `link_to`; new_ticket.")
    caller_name = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    caller_phone = serializers.CharField(max_length=30, required=False, allow_blank=True, default="")
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    title = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    answer = serializers.CharField(max_length=4000, required=False, allow_blank=True, default="")
    urgent = serializers.BooleanField(required=False, default=False)
    lon = serializers.FloatField(required=False, allow_null=True, default=None)
    lat = serializers.FloatField(required=False, allow_null=True, default=None)
    category = serializers.CharField(max_length=20, required=False, allow_blank=True, allow_null=True, default=None, help_text="Category id; needed for a new ticket.")
    article = serializers.CharField(max_length=20, required=False, allow_blank=True, allow_null=True, default=None, help_text="The knowledge article answered from (id).")
    link_to = serializers.CharField(max_length=20, required=False, allow_blank=True, allow_null=True, default=None, help_text="The open ticket (linked, id).")


class ContactTicket(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    state = serializers.CharField()
    state_display = serializers.CharField()


class ContactArticle(serializers.Serializer):
    id = serializers.IntegerField()
    title = serializers.CharField()


class ContactSerializer(serializers.Serializer):
    """hotline.api.contact_json; caller name and phone are masked for roles that do not call back."""

    id = serializers.IntegerField()
    channel = serializers.CharField()
    channel_display = serializers.CharField()
    type = serializers.CharField()
    type_display = serializers.CharField()
    caller_name = serializers.CharField()
    caller_phone = serializers.CharField()
    content = serializers.CharField()
    address = serializers.CharField()
    lon = serializers.FloatField(allow_null=True)
    lat = serializers.FloatField(allow_null=True)
    outcome = serializers.CharField()
    outcome_display = serializers.CharField()
    ticket = ContactTicket(allow_null=True)
    article = ContactArticle(allow_null=True)
    is_repeat = serializers.BooleanField()
    urgent = serializers.BooleanField()
    created_at = serializers.DateTimeField()
    due_at = serializers.DateTimeField()


class ContactList(serializers.Serializer):
    results = ContactSerializer(many=True)


class VisitInput(serializers.Serializer):
    satisfaction = serializers.ChoiceField(Satisfaction.choices)
    note = serializers.CharField(required=False, allow_blank=True, help_text="Needed when unsatisfied.")
    unsatisfied_to = serializers.ChoiceField([("rework", "rework"), ("chief", "chief")], required=False,
                                             help_text="Unsatisfied: reopen as rework (default) or send to the duty chief.")


class VisitAnswer(serializers.Serializer):
    id = serializers.IntegerField()
    state = serializers.CharField()
    satisfaction = serializers.CharField()
    follow_up = serializers.CharField()
