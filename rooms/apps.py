from django.apps import AppConfig


class RoomsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "rooms"

    def ready(self) -> None:
        # accounts sits below rooms: it learns how to check a room invite (SIGNUP=invite) from
        # here instead of importing rooms.
        from accounts.signup import register_invite_check
        from rooms.invites import room_invite_is_current

        register_invite_check(room_invite_is_current)
