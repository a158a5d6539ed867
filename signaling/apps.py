from django.apps import AppConfig


class SignalingConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "signaling"

    def ready(self) -> None:
        # rooms sits below signaling: its moderation services announce what they decided
        # through rooms.live, and the call in progress hears it through the channel layer.
        from rooms.live import call_notifier_register
        from signaling.events import LayerCallNotifier

        call_notifier_register(LayerCallNotifier())
