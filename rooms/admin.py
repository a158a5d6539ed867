"""Staff moderation in /admin/: rooms with their bans, members and live participants; chat;
the moderation log, read-only.

Every action calls a service in rooms.services or rooms.moderation, the same code the owner's
buttons and the in-call moderation use.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils.text import Truncator
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from rooms import moderation, services
from rooms.models import (
    AuditEntry,
    ChatMessage,
    Participant,
    Room,
    RoomBan,
    RoomKick,
    RoomMembership,
    participant_connected_q,
)

admin.site.site_header = _("meet administration")
admin.site.site_title = _("meet admin")
admin.site.index_title = _("Rooms, people and chat")


class ClosedFilter(admin.SimpleListFilter):
    title = _("closed")
    parameter_name = "closed"

    def lookups(self, request, model_admin):
        return (("yes", _("Yes")), ("no", _("No")))

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(closed_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(closed_at__isnull=True)
        return queryset


class RoomBanForm(forms.ModelForm):
    """Refuses a ban on the room's owner with a message on the form, not a server error."""

    class Meta:
        model = RoomBan
        fields = ("room", "user", "reason")

    def clean(self):
        cleaned = super().clean()
        room_id = cleaned.get("room").pk if cleaned.get("room") else self.instance.room_id
        user = cleaned.get("user")
        if room_id and user and Room.objects.filter(pk=room_id, owner=user).exists():
            raise ValidationError(_("The owner of a room cannot be banned from it."))
        return cleaned


class RoomBanInline(admin.TabularInline):
    model = RoomBan
    form = RoomBanForm
    fields = ("user", "reason", "banned_by", "created_at")
    readonly_fields = ("banned_by", "created_at")
    raw_id_fields = ("user",)
    extra = 0
    verbose_name = _("ban")


class RoomMembershipInline(admin.TabularInline):
    model = RoomMembership
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)
    raw_id_fields = ("user",)
    extra = 0
    verbose_name = _("moderator or member")
    verbose_name_plural = _("moderators and members")


class ConnectedParticipantInline(admin.TabularInline):
    """Who is in the call right now; kicking is an action on the Participant list."""

    model = Participant
    fields = ("user", "peer_id", "role", "joined_at", "last_seen")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name = _("connected participant")
    verbose_name_plural = _("connected participants")

    def get_queryset(self, request):
        return super().get_queryset(request).connected().select_related("user")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Room)
class RoomAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "slug",
        "owner",
        "is_private",
        "is_locked",
        "guests_allowed",
        "lobby",
        "is_closed",
        "max_participants",
        "media_mode",
        "connected",
        "live_media",
        "created_at",
    )
    list_filter = (
        "is_locked",
        "is_private",
        "guests_allowed",
        "lobby",
        "media_mode",
        ClosedFilter,
    )
    search_fields = ("name", "slug", "owner__username", "owner__display_name")
    list_select_related = ("owner",)
    raw_id_fields = ("owner",)
    readonly_fields = (
        "slug",
        "invite_token",
        "live_media",
        "created_at",
        "updated_at",
        "closed_at",
    )
    fields = (
        "name",
        "slug",
        "owner",
        "description",
        "is_private",
        "is_locked",
        "guests_allowed",
        "lobby",
        "lobby_when_locked",
        "max_participants",
        "media_mode",
        "live_media",
        "invite_token",
        "created_at",
        "updated_at",
        "closed_at",
    )
    inlines = (ConnectedParticipantInline, RoomMembershipInline, RoomBanInline)
    actions = (
        "lock_rooms",
        "unlock_rooms",
        "end_calls",
        "close_rooms",
        "reopen_rooms",
        "rotate_invites",
    )

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                connected_count=Count(
                    "participants", filter=participant_connected_q("participants__")
                )
            )
        )

    @admin.display(boolean=True, description=_("closed"), ordering="closed_at")
    def is_closed(self, room: Room) -> bool:
        return room.is_closed

    @admin.display(description=_("connected"), ordering="connected_count")
    def connected(self, room: Room) -> int:
        return room.connected_count

    @admin.display(description=_("call media"))
    def live_media(self, room: Room) -> str:
        """How the call in progress carries media, and on which Janus node if through the SFU."""
        if not getattr(room, "connected_count", None):
            return "—"
        if room.sfu_node:
            return gettext("SFU on %(node)s (room %(room)s)") % {
                "node": room.sfu_node,
                "room": room.sfu_room,
            }
        return gettext("peer to peer")

    def save_model(self, request, obj, form, change):
        # The slug is read-only here, so a room added in the admin gets one as the form's
        # rooms do; it never changes afterwards, so old links keep working after a rename.
        if not change:
            obj.slug = services.room_slug_for(name=obj.name)
            super().save_model(request, obj, form, change)
            return
        # A change goes through the same services as the owner's settings page, so a lock set
        # here reaches the call in progress (``room`` with ``locked``) instead of only the row.
        if "owner" in form.changed_data:
            previous_owner = User.objects.get(pk=form.initial["owner"])
            services.room_set_owner(room=obj, owner=form.cleaned_data["owner"])
            # Both people's roles change in a call they are in right now.
            for user in (previous_owner, obj.owner):
                moderation.participant_roles_refresh(room=obj, user=user)
        fields = {
            name: form.cleaned_data[name]
            for name in (*services.ROOM_EDITABLE_FIELDS, "is_locked")
            if name in form.cleaned_data
        }
        moderation.room_edit(room=obj, by=request.user, **fields)

    def save_formset(self, request, form, formset, change):
        if formset.model is RoomMembership:
            roles_before = _membership_roles(room=form.instance)
            super().save_formset(request, form, formset, change)
            roles_after = _membership_roles(room=form.instance)
            # A role granted or taken here reaches whoever is in the call right now, as when
            # the owner changes it on the room's settings page.
            # Everyone a row names before or after the save: a row's user can be swapped too.
            user_ids = {row.initial.get("user") for row in formset.forms}
            user_ids |= {row.instance.user_id for row in formset.forms}
            for user in User.objects.filter(pk__in=user_ids - {None}):
                moderation.membership_change_record(
                    room=form.instance,
                    user=user,
                    before=roles_before.get(user.pk),
                    after=roles_after.get(user.pk),
                    by=request.user,
                )
                moderation.participant_roles_refresh(room=form.instance, user=user)
            return None
        if formset.model is not RoomBan:
            return super().save_formset(request, form, formset, change)
        # New bans go through the service so the banned user is also removed from the call and
        # the ban records who made it.
        for ban in formset.save(commit=False):
            if ban.pk is None:
                moderation.room_ban_user(
                    room=form.instance, user=ban.user, by=request.user, reason=ban.reason
                )
            else:
                ban.save()
        # A ban deleted here is lifted through the service, so the moderation log says so.
        for ban in formset.deleted_objects:
            services.room_unban_user(room=ban.room, user=ban.user, by=request.user)
        return None

    # The English says "room(s)" whatever the count; ngettext lets other languages say it right.
    @admin.action(description=_("Lock selected rooms"))
    def lock_rooms(self, request, queryset):
        for room in queryset:
            moderation.room_lock(room=room, locked=True, by=request.user)
        count = len(queryset)
        message = ngettext("Locked %(count)d room(s).", "Locked %(count)d room(s).", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Unlock selected rooms"))
    def unlock_rooms(self, request, queryset):
        for room in queryset:
            moderation.room_lock(room=room, locked=False, by=request.user)
        count = len(queryset)
        message = ngettext("Unlocked %(count)d room(s).", "Unlocked %(count)d room(s).", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("End calls in selected rooms (the rooms stay open)"))
    def end_calls(self, request, queryset):
        for room in queryset:
            moderation.room_end(room=room, by=request.user)
        count = len(queryset)
        message = ngettext(
            "Ended the calls in %(count)d room(s).", "Ended the calls in %(count)d room(s).", count
        )
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Close selected rooms (ends their calls)"))
    def close_rooms(self, request, queryset):
        for room in queryset:
            moderation.room_close_and_end_call(room=room, by=request.user)
        count = len(queryset)
        message = ngettext("Closed %(count)d room(s).", "Closed %(count)d room(s).", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Reopen selected rooms"))
    def reopen_rooms(self, request, queryset):
        for room in queryset:
            services.room_reopen(room=room, by=request.user)
        count = len(queryset)
        message = ngettext("Reopened %(count)d room(s).", "Reopened %(count)d room(s).", count)
        self.message_user(request, message % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Rotate invite links of selected rooms"))
    def rotate_invites(self, request, queryset):
        for room in queryset:
            services.room_rotate_invite(room=room, by=request.user)
        count = len(queryset)
        message = ngettext(
            "New invite links for %(count)d room(s); old links no longer work.",
            "New invite links for %(count)d room(s); old links no longer work.",
            count,
        )
        self.message_user(request, message % {"count": count}, messages.SUCCESS)


@admin.register(RoomBan)
class RoomBanAdmin(admin.ModelAdmin):
    list_display = ("user", "room", "reason", "banned_by", "created_at")
    search_fields = ("user__username", "room__name", "room__slug", "reason")
    list_select_related = ("user", "room", "banned_by")
    raw_id_fields = ("user", "room")
    readonly_fields = ("banned_by", "created_at")
    form = RoomBanForm

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        # A new ban goes through the service so the user also leaves any call in progress.
        ban = moderation.room_ban_user(
            room=obj.room, user=obj.user, by=request.user, reason=obj.reason
        )
        obj.pk = ban.pk

    # Deleting a ban lifts it through the service, so the moderation log records who did.
    def delete_model(self, request, obj):
        services.room_unban_user(room=obj.room, user=obj.user, by=request.user)

    def delete_queryset(self, request, queryset):
        for ban in queryset.select_related("room", "user"):
            services.room_unban_user(room=ban.room, user=ban.user, by=request.user)


def _membership_roles(*, room: Room) -> dict[int, str]:
    """Each member's role in ``room`` by user id, to compare before and after an inline save."""
    return dict(RoomMembership.objects.filter(room=room).values_list("user_id", "role"))


@admin.register(RoomKick)
class RoomKickAdmin(admin.ModelAdmin):
    """Kick cooldowns; deleting one lets that person back in at once."""

    list_display = ("user", "room", "until", "reason", "kicked_by", "created_at")
    search_fields = ("user__username", "room__name", "room__slug", "reason")
    list_select_related = ("user", "room", "kicked_by")
    readonly_fields = ("room", "user", "until", "reason", "kicked_by", "created_at")

    def has_add_permission(self, request):
        # Cooldowns start when someone is kicked, through the kick service.
        return False


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ("user", "room", "peer_id", "role", "joined_at", "last_seen", "left_at")
    list_filter = (("left_at", admin.EmptyFieldListFilter), "role")
    search_fields = ("user__username", "room__name", "room__slug", "peer_id")
    list_select_related = ("user", "room")
    readonly_fields = (
        "room",
        "user",
        "peer_id",
        "channel_name",
        "role",
        "state",
        "joined_at",
        "last_seen",
        "left_at",
        "leave_reason",
    )
    actions = ("kick_participants",)

    def has_add_permission(self, request):
        # Presence rows are made by the signaling server when a peer connects, never by hand.
        return False

    @admin.action(description=_("Kick selected participants"))
    def kick_participants(self, request, queryset):
        connected = list(queryset.open().select_related("user", "room"))
        for participant in connected:
            moderation.participant_kick(
                participant=participant, by=request.user, reason=gettext("Removed by staff.")
            )
        skipped = len(queryset) - len(connected)
        kicked = len(connected)
        message = ngettext(
            "Kicked %(count)d participant(s).", "Kicked %(count)d participant(s).", kicked
        ) % {"count": kicked}
        if skipped:
            message += " " + ngettext(
                "%(count)d had already left.", "%(count)d had already left.", skipped
            ) % {"count": skipped}
        self.message_user(request, message, messages.SUCCESS)


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = ("short_text", "user", "room", "created_at", "hidden")
    list_filter = ("hidden",)
    search_fields = ("text", "user__username", "user__display_name", "room__name", "room__slug")
    list_select_related = ("user", "room")
    readonly_fields = ("room", "user", "peer_id", "text", "created_at")
    fields = ("room", "user", "peer_id", "text", "created_at", "hidden")
    actions = ("hide_messages",)
    date_hierarchy = "created_at"

    def has_add_permission(self, request):
        return False

    @admin.display(description=_("text"))
    def short_text(self, message: ChatMessage) -> str:
        return Truncator(message.text).chars(80)

    @admin.action(description=_("Hide selected messages"))
    def hide_messages(self, request, queryset):
        for message in queryset:
            services.chat_message_hide(message=message)
        count = len(queryset)
        text = ngettext("Hid %(count)d message(s).", "Hid %(count)d message(s).", count)
        self.message_user(request, text % {"count": count}, messages.SUCCESS)


@admin.register(AuditEntry)
class AuditEntryAdmin(admin.ModelAdmin):
    """The moderation log: who did what to whom, in which room. Nobody may add, change or
    delete an entry here; the services write them and the history purge ends them."""

    list_display = ("created_at", "room", "actor_shown", "action", "target_shown", "detail")
    list_filter = (
        "action",
        ("room", admin.RelatedOnlyFieldListFilter),
        ("actor", admin.RelatedOnlyFieldListFilter),
    )
    search_fields = ("actor_name", "target_name", "detail", "room__name", "room__slug")
    list_select_related = ("room",)
    date_hierarchy = "created_at"
    fields = (
        "created_at",
        "room",
        "action",
        "actor",
        "actor_name",
        "target",
        "target_name",
        "detail",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("who"), ordering="actor_name")
    def actor_shown(self, entry: AuditEntry) -> str:
        return entry.actor_name or gettext("system")

    @admin.display(description=_("whom"), ordering="target_name")
    def target_shown(self, entry: AuditEntry) -> str:
        return entry.target_name
