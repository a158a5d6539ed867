"""Room forms: creating a room and editing one's own room. Each bad field gets its own message."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.text import format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import names
from rooms.models import (
    MAX_PARTICIPANTS_DEFAULT,
    MAX_PARTICIPANTS_MAX,
    MAX_PARTICIPANTS_MIN,
    MESH_MAX_PARTICIPANTS,
    ROOM_NAME_MAX_LENGTH,
    LobbyPolicy,
    MediaMode,
    Room,
)

DESCRIPTION_MAX_LENGTH = 1000


class RoomFieldsForm(forms.ModelForm):
    """The fields shared by creating and editing, with messages a person can act on."""

    name = forms.CharField(
        # The length check is done in clean_name so the message can say how long the name is.
        strip=True,
        label=_("Name"),
        error_messages={"required": _("Give the room a name.")},
        widget=forms.TextInput(attrs={"maxlength": ROOM_NAME_MAX_LENGTH, "autocomplete": "off"}),
    )
    description = forms.CharField(
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        label=_("Description"),
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "max_length": format_lazy(
                _("Keep the description under {limit} characters."), limit=DESCRIPTION_MAX_LENGTH
            )
        },
    )
    max_participants = forms.IntegerField(
        required=False,
        min_value=MAX_PARTICIPANTS_MIN,
        max_value=MESH_MAX_PARTICIPANTS,
        initial=MAX_PARTICIPANTS_DEFAULT,
        label=_("Maximum participants"),
        help_text=format_lazy(
            _("Between {min} and {max}; everyone sends video to everyone, so smaller is smoother."),
            min=MAX_PARTICIPANTS_MIN,
            max=MESH_MAX_PARTICIPANTS,
        ),
        error_messages={
            "min_value": format_lazy(
                _("A call needs at least {min} participants."), min=MAX_PARTICIPANTS_MIN
            ),
            "max_value": format_lazy(
                _("At most {max} participants fit in one call."), max=MESH_MAX_PARTICIPANTS
            ),
            "invalid": _("Enter a whole number."),
        },
    )
    is_private = forms.BooleanField(
        required=False,
        label=_("Private"),
        help_text=_("Only you, moderators, members and people with the invite link can enter."),
    )

    class Meta:
        model = Room
        fields = ("name", "description", "max_participants", "is_private")

    def clean_name(self) -> str:
        # The same name rules as people's names: NFKC, no direction or invisible tricks.
        name = names.clean_name(self.cleaned_data["name"], label=gettext("Room names"))
        if len(name) > ROOM_NAME_MAX_LENGTH:
            raise forms.ValidationError(
                gettext("Room names can be at most %(limit)d characters (this one has %(length)d).")
                % {"limit": ROOM_NAME_MAX_LENGTH, "length": len(name)}
            )
        return name

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Past the mesh's limit only a call through the SFU fits, so the limit is the mesh's
        # unless a media server is configured.
        field = self.fields["max_participants"]
        limit = participant_limit()
        field.max_value = limit
        field.widget.attrs["max"] = limit
        field.validators = [v for v in field.validators if not hasattr(v, "limit_value")]
        field.validators.append(MaxValueValidator(limit))
        field.validators.append(MinValueValidator(MAX_PARTICIPANTS_MIN))
        field.error_messages["max_value"] = format_lazy(
            _("At most {max} participants fit in one call."), max=limit
        )
        field.help_text = (
            format_lazy(
                _(
                    "Between {min} and {max}. Up to {mesh} can talk peer to peer; larger calls go "
                    "through the server."
                ),
                min=MAX_PARTICIPANTS_MIN,
                max=limit,
                mesh=MESH_MAX_PARTICIPANTS,
            )
            if limit > MESH_MAX_PARTICIPANTS
            else field.help_text
        )

    def clean_max_participants(self) -> int:
        # The field is optional on the wire (only `name` is required), so empty means default.
        value = self.cleaned_data.get("max_participants")
        return MAX_PARTICIPANTS_DEFAULT if value is None else value

    def clean(self):
        cleaned = super().clean()
        size = cleaned.get("max_participants") or 0
        if size > MESH_MAX_PARTICIPANTS and cleaned.get("media_mode") == MediaMode.MESH:
            self.add_error(
                "max_participants",
                format_lazy(
                    _(
                        "Peer to peer works for up to {mesh} people; for more, let video go "
                        "through the server."
                    ),
                    mesh=MESH_MAX_PARTICIPANTS,
                ),
            )
        return cleaned


def participant_limit() -> int:
    """The largest call a room may be set to: the mesh's limit, or more with an SFU."""
    return MAX_PARTICIPANTS_MAX if settings.JANUS_URLS else MESH_MAX_PARTICIPANTS


class RoomCreateForm(RoomFieldsForm):
    """Only ``name`` is required; everything else has a sensible default."""


# The media modes in the owner's words (the model's labels are written for the admin).
MEDIA_MODE_CHOICES = (
    (MediaMode.AUTO, _("Automatic: peer to peer while small")),
    (MediaMode.MESH, _("Always peer to peer")),
    (MediaMode.SFU, _("Always through the server")),
)


# The lobby choices in the owner's words (the model's labels are written for the admin).
LOBBY_CHOICES = (
    (LobbyPolicy.OFF, _("Nobody waits: everyone allowed in joins at once")),
    (LobbyPolicy.GUESTS, _("Guests wait until you or a moderator let them in")),
    (LobbyPolicy.NON_MEMBERS, _("Everyone but you, moderators and members waits")),
)


class RoomEditForm(RoomFieldsForm):
    """The owner's settings page: the shared fields, the lock, guests and the lobby."""

    # Who may get in and how: shown under their own heading on the settings page.
    ENTRY_FIELDS = ("is_private", "is_locked", "guests_allowed", "lobby", "lobby_when_locked")

    is_locked = forms.BooleanField(
        required=False,
        label=_("Locked"),
        help_text=_("Nobody but you and staff can join while the room is locked."),
    )
    guests_allowed = forms.BooleanField(
        required=False,
        label=_("Guests may join with the invite link"),
        help_text=_(
            "Guests need no account: they give a name and get in only with the current invite "
            "link. Making a new link keeps out everyone who has an old one."
        ),
    )
    lobby = forms.ChoiceField(
        choices=LOBBY_CHOICES,
        label=_("Lobby"),
        help_text=_(
            "Whoever waits knocks in the lobby; you or a moderator let them in or turn them "
            "away from the call."
        ),
        error_messages={
            "required": _("Choose who waits in the lobby."),
            "invalid_choice": _("Choose one of the lobby options."),
        },
    )
    lobby_when_locked = forms.BooleanField(
        required=False,
        label=_("While locked, send newcomers to the lobby instead of turning them away"),
    )
    media_mode = forms.ChoiceField(
        choices=MEDIA_MODE_CHOICES,
        label=_("How video travels"),
        help_text=_(
            "Peer to peer has the lowest delay, but every browser sends its video to everyone: "
            "it suits a handful of people. Through the server, each browser sends its video "
            "once. Automatic moves a call to the server when it grows past a few people. "
            "Without a media server configured, every call is peer to peer."
        ),
        error_messages={"invalid_choice": _("Choose one of the media options.")},
    )

    class Meta(RoomFieldsForm.Meta):
        fields = (
            "name",
            "description",
            "max_participants",
            "is_private",
            "is_locked",
            "guests_allowed",
            "lobby",
            "lobby_when_locked",
            "media_mode",
        )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # A post without the lobby or the media mode at all (a page from before they existed,
        # a script) keeps the room's value rather than failing; the page always sends both.
        for name in ("lobby", "media_mode"):
            if self.is_bound and name not in self.data:
                self.data = self.data.copy()
                self.data[name] = getattr(self.instance, name)

    def room_fields(self) -> list[forms.BoundField]:
        """The fields about the room itself, in form order (the first group on the page)."""
        return [field for field in self if field.name not in self.ENTRY_FIELDS]

    def entry_fields(self) -> list[forms.BoundField]:
        """The fields about who may get in, in form order (the second group on the page)."""
        return [field for field in self if field.name in self.ENTRY_FIELDS]


class RoomPersonForm(forms.Form):
    """One of the owner's buttons next to a person on the settings page."""

    # Banning has its own confirmation page (RoomBanForm), so it is not one of these buttons.
    ACTIONS = (
        ("make_moderator", _("Make moderator")),
        ("make_member", _("Make member")),
        ("remove", _("Remove")),
        ("unban", _("Unban")),
        ("let_back_in", _("Let back in")),
    )

    action = forms.ChoiceField(
        choices=ACTIONS, error_messages={"invalid_choice": _("Unknown action.")}
    )
    user = forms.IntegerField(error_messages={"invalid": _("Unknown person.")})


class RoomBanForm(forms.Form):
    """The owner's confirmation of a ban, with the reason the banned person will see."""

    reason = forms.CharField(
        required=False,
        max_length=200,
        strip=True,
        label=_("Reason"),
        help_text=_("They see it when they are removed and whenever they try to come back."),
        widget=forms.TextInput(attrs={"maxlength": 200, "autocomplete": "off"}),
        error_messages={"max_length": _("Keep the reason under 200 characters.")},
    )
