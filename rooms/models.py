"""Rooms and everything that persists about them: membership, bans, chat and presence."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

MAX_PARTICIPANTS_DEFAULT = 8
MAX_PARTICIPANTS_MIN = 2
# A peer-to-peer mesh makes every browser send to every other: 16 is already far past what a
# laptop and a home uplink carry. Calls through the SFU (issue #11) may be larger.
MESH_MAX_PARTICIPANTS = 16
MAX_PARTICIPANTS_MAX = 100
ROOM_NAME_MAX_LENGTH = 80
CHAT_TEXT_MAX_LENGTH = 2000
# The emoji a call's ``reaction`` may carry (issue #15, like Meet's); the socket refuses others
# and the page offers these, from its configuration.
REACTION_EMOJI = ("👍", "❤️", "😂", "😮", "👏", "🎉")


def generate_invite_token() -> str:
    """A fresh, unguessable invite token; rotating it invalidates every older invite link."""
    return secrets.token_urlsafe(24)


class LobbyPolicy(models.TextChoices):
    """Who waits in the lobby until a host admits them (contract: ``Room.lobby``)."""

    OFF = "off", _("Nobody: everyone allowed in enters at once")
    GUESTS = "guests", _("Guests knock; people with an account enter at once")
    NON_MEMBERS = "non_members", _("Everyone but the owner, moderators and members knocks")


class MediaMode(models.TextChoices):
    """How a room's calls carry media (issue #11): browser to browser, or through the SFU."""

    AUTO = "auto", _("Automatic: peer to peer for small calls, the server's SFU for larger ones")
    MESH = "mesh", _("Always peer to peer (each browser sends to every other)")
    SFU = "sfu", _("Always through the server (needs Janus configured)")


class Room(models.Model):
    name = models.CharField(max_length=ROOM_NAME_MAX_LENGTH)
    slug = models.SlugField(max_length=100, unique=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="owned_rooms"
    )
    description = models.TextField(blank=True, max_length=1000)
    is_private = models.BooleanField(
        default=False, help_text=_("Only the owner, moderators, members and invitees may enter.")
    )
    invite_token = models.CharField(max_length=64, default=generate_invite_token)
    is_locked = models.BooleanField(
        default=False, help_text=_("Only the owner and staff may enter while locked.")
    )
    guests_allowed = models.BooleanField(
        default=False,
        help_text=_("People without an account may join with the invite link and a name."),
    )
    lobby = models.CharField(
        max_length=16,
        choices=LobbyPolicy.choices,
        default=LobbyPolicy.OFF,
        help_text=_("Who must knock and wait for the owner or a moderator to let them in."),
    )
    lobby_when_locked = models.BooleanField(
        default=False,
        help_text=_("While locked, newcomers knock in the lobby instead of being turned away."),
    )
    max_participants = models.PositiveSmallIntegerField(
        default=MAX_PARTICIPANTS_DEFAULT,
        validators=[
            MinValueValidator(MAX_PARTICIPANTS_MIN),
            MaxValueValidator(MAX_PARTICIPANTS_MAX),
        ],
    )
    media_mode = models.CharField(
        max_length=8,
        choices=MediaMode.choices,
        default=MediaMode.AUTO,
        help_text=_("Peer to peer suits up to a handful of people; larger calls need the SFU."),
    )
    # The live call's SFU, while it has one: the Janus node it is pinned to, the VideoRoom id on
    # that node and the room's secret. Set when a call moves to the SFU (signaling.media_mode),
    # cleared when a call starts afresh in an empty room.
    sfu_node = models.CharField(max_length=200, blank=True, default="")
    sfu_room = models.PositiveBigIntegerField(null=True, blank=True)
    sfu_secret = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("rooms:detail", kwargs={"slug": self.slug})

    def clean(self) -> None:
        super().clean()
        # Past the mesh's limit only a call through the SFU fits.
        if self.max_participants and self.max_participants > MESH_MAX_PARTICIPANTS:
            if not settings.JANUS_URLS or self.media_mode == MediaMode.MESH:
                raise ValidationError(
                    {
                        "max_participants": _(
                            "More than %(mesh)d people need video to go through the server."
                        )
                        % {"mesh": MESH_MAX_PARTICIPANTS}
                    }
                )

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class RoomMembership(models.Model):
    class Role(models.TextChoices):
        MEMBER = "member", _("Member")
        MODERATOR = "moderator", _("Moderator")

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_memberships"
    )
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["room", "user"], name="unique_room_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.room} ({self.role})"


class RoomBan(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="bans")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_bans"
    )
    reason = models.CharField(max_length=200, blank=True)
    banned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="unique_room_ban")]

    def __str__(self) -> str:
        return f"{self.user} banned from {self.room}"


class RoomKick(models.Model):
    """Someone removed from a room's call, kept out of the room until ``until``.

    One row per room and user: a second kick moves ``until``. While it runs, the removed person
    may ask once to come back (they knock, whatever the room's lobby setting); a host who admits
    them lifts it, one who denies them leaves them to wait it out (``may_knock`` false). The owner
    also lifts it by deleting the row (the settings page's "Let back in"); an expired row is
    simply ignored.
    """

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="kicks")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_kicks"
    )
    until = models.DateTimeField()
    reason = models.CharField(max_length=200, blank=True)
    may_knock = models.BooleanField(default=True)
    kicked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="unique_room_kick")]

    def __str__(self) -> str:
        return f"{self.user} removed from {self.room} until {self.until:%Y-%m-%d %H:%M}"


class RoomVisit(models.Model):
    """When a user last opened a room, for the "recently visited" list on the landing page."""

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="visits")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_visits"
    )
    last_visited_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["room", "user"], name="unique_room_visit")]
        indexes = [models.Index(fields=["user", "-last_visited_at"])]

    def __str__(self) -> str:
        return f"{self.user} visited {self.room}"


class ChatMessage(models.Model):
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="chat_messages")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="chat_messages",
    )
    peer_id = models.CharField(max_length=64, blank=True)
    text = models.TextField(max_length=CHAT_TEXT_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True)
    hidden = models.BooleanField(
        default=False, help_text=_("Hidden messages are never shown again.")
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["room", "hidden", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.user}: {self.text[:40]}"


# Why a participant row ended (``Participant.leave_reason``); ``peer-left`` carries the first
# three. The last two are never announced as peer-left: the room ended for all, or the peer came
# back on a newer socket.
REASON_LEFT = "left"
REASON_KICKED = "kicked"
REASON_CONNECTION_LOST = "connection-lost"
REASON_ROOM_ENDED = "room-ended"
REASON_RESUMED = "resumed"

# A peer's media and hand state before it says otherwise (``welcome``, ``peer-joined``, ``state``).
PEER_STATE_DEFAULT = {"audio": True, "video": True, "screen": False, "hand": False}


def participant_open_q(prefix: str = "") -> Q:
    """Rows whose call has not ended (``prefix`` like ``"participants__"`` for a relation)."""
    return Q(**{f"{prefix}left_at__isnull": True})


def participant_fresh_since():
    """The oldest ``last_seen`` of a connected row: ``PRESENCE_STALE_SECONDS`` ago.

    The one cut-off between connected and stale, for the ORM (``participant_connected_q``) and
    for the one statement written out in SQL (``signaling.presence``'s admission read).
    """
    return timezone.now() - timedelta(seconds=float(settings.PRESENCE_STALE_SECONDS))


def participant_connected_q(prefix: str = "") -> Q:
    """Rows connected now, in any process: not ended and seen within ``PRESENCE_STALE_SECONDS``.

    A row that stopped being refreshed belongs to a process that died or stalled; the sweep
    ends it soon, and until then it is not counted as in the call anywhere (welcome, seats,
    the admin's counts).
    """
    return participant_open_q(prefix) & Q(**{f"{prefix}last_seen__gte": participant_fresh_since()})


class ParticipantQuerySet(models.QuerySet):
    def open(self) -> ParticipantQuerySet:
        """Rows whose call has not ended (``left_at`` unset), fresh or stale."""
        return self.filter(participant_open_q())

    def connected(self) -> ParticipantQuerySet:
        """Rows connected now: open and seen within ``PRESENCE_STALE_SECONDS``."""
        return self.filter(participant_connected_q())


class Participant(models.Model):
    """One signaling connection of a user in a room: presence that all server processes share.

    A row is made when a peer is admitted and ended (``left_at``) when it leaves; rows whose
    ``last_seen`` is stale are ended by the sweep because a killed worker never runs disconnect.
    """

    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        MODERATOR = "moderator", _("Moderator")
        MEMBER = "member", _("Member")
        GUEST = "guest", _("Guest")

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="participations"
    )
    peer_id = models.CharField(max_length=64, db_index=True)
    channel_name = models.CharField(max_length=200)
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.MEMBER)
    state = models.JSONField(default=dict, blank=True)
    joined_at = models.DateTimeField(auto_now_add=True)
    last_seen = models.DateTimeField()
    left_at = models.DateTimeField(null=True, blank=True)
    leave_reason = models.CharField(max_length=32, blank=True)

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        ordering = ["joined_at"]
        indexes = [
            # A room's connected peers (open and fresh): every join reads them under the room's
            # lock. With only (room, left_at) SQLite chose the (left_at, last_seen) index and
            # walked every connected peer on the server, on every join (issue #14).
            models.Index(fields=["room", "left_at", "last_seen"]),
            models.Index(fields=["left_at", "last_seen"]),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.room} as {self.peer_id}"


class LobbyKnock(models.Model):
    """Someone waiting in a room's lobby, and what became of the knock.

    The row is what every server process shares: a host joining the call reads the waiting
    knocks from here, and a decision finds the knocker's socket by ``channel_name``. A knock is
    ``waiting`` until a host admits or denies it, it expires (``LOBBY_KNOCK_TIMEOUT_SECONDS``) or
    the knocker leaves.
    """

    class Status(models.TextChoices):
        WAITING = "waiting", _("Waiting")
        ADMITTED = "admitted", _("Admitted")
        DENIED = "denied", _("Denied")
        EXPIRED = "expired", _("Expired")
        LEFT = "left", _("Left")

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="knocks")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="room_knocks"
    )
    role = models.CharField(max_length=16, choices=Participant.Role.choices)
    # The knocker was removed from the call and its cooldown still runs: hosts are told.
    after_kick = models.BooleanField(default=False)
    channel_name = models.CharField(max_length=200)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.WAITING)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["room", "status"])]

    def __str__(self) -> str:
        return f"{self.user} knocking at {self.room} ({self.status})"


class AuditEntry(models.Model):
    """One moderation action, kept after the call: who did what to whom, when, in which room.

    Names are copied at the time (``actor_name``, ``target_name``) so the row still reads right
    after an account is renamed or deleted. Rows are read-only everywhere; the history purge
    deletes them after ``AUDIT_RETENTION_DAYS``.
    """

    class Action(models.TextChoices):
        KICK = "kick", _("Removed from the call")
        MUTE = "mute", _("Asked to mute")
        BAN = "ban", _("Banned")
        UNBAN = "unban", _("Ban lifted")
        LOCK = "lock", _("Locked the room")
        UNLOCK = "unlock", _("Unlocked the room")
        END = "end", _("Ended the call for everyone")
        CLOSE = "close", _("Closed the room")
        REOPEN = "reopen", _("Reopened the room")
        ADMIT = "admit", _("Let in from the lobby")
        DENY = "deny", _("Turned away from the lobby")
        ROLE = "role", _("Changed the role")
        INVITE_ROTATE = "invite_rotate", _("Made a new invite link")
        GUESTS = "guests", _("Changed guest access")
        LOBBY = "lobby", _("Changed the lobby")

    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="audit_entries")
    action = models.CharField(max_length=16, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_name = models.CharField(max_length=150, blank=True)
    target = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    target_name = models.CharField(max_length=150, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["room", "-created_at"])]
        verbose_name_plural = _("audit entries")

    def __str__(self) -> str:
        who = self.actor_name or "system"
        whom = f" {self.target_name}" if self.target_name else ""
        return f"{who}: {self.get_action_display()}{whom} in {self.room}"
