from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from accounts.names import clean_name, username_skeleton

LOOKALIKE_USERNAME_MESSAGE = _("This username looks like an existing username; choose another.")


class User(AbstractUser):
    """A person who can log in. `display_name` is what others see in a call."""

    display_name = models.CharField(max_length=80, blank=True)
    # The look-alike key of the username (accounts/names.py), kept in step by save(); indexed so
    # signup can refuse "аdmin" (Cyrillic а) when "admin" exists without reading every user.
    username_skeleton = models.CharField(max_length=600, db_index=True, editable=False, default="")
    # A guest (issue #12): someone who entered a room with its invite link and only a name. The
    # row exists so a guest can chat, be kicked and be banned like anyone, but nobody can log in
    # with it: its password is unusable, its username cannot be typed into signup (accounts.guests)
    # and the login form refuses it. The browser session holds the guest, never an auth login.
    is_guest = models.BooleanField(
        default=False,
        editable=False,
        help_text=_("Entered a room with its invite link and a name; cannot log in."),
    )

    class Meta(AbstractUser.Meta):
        constraints = [
            # "Ana" and "ana" are one account name; the database enforces it even when two
            # signups race past the form's check.
            models.UniqueConstraint(
                Lower("username"),
                name="accounts_user_username_case_insensitive_unique",
                violation_error_message=_("A user with that username already exists."),
            ),
        ]

    def __str__(self) -> str:
        return self.username

    @property
    def shown_name(self) -> str:
        """The name others see: the display name when set, else the username."""
        return self.display_name or self.username

    def clean(self) -> None:
        """Apply the name rules wherever a user is edited through a form (signup, admin)."""
        super().clean()
        errors: dict[str, list[str]] = {}
        try:
            self.username = clean_name(self.username, label=_("Usernames"))
        except ValidationError as error:
            errors["username"] = error.messages
        try:
            self.display_name = clean_name(self.display_name, label=_("Display names"))
        except ValidationError as error:
            errors["display_name"] = error.messages
        if "username" not in errors and self.username:
            lookalikes = User.objects.filter(username_skeleton=username_skeleton(self.username))
            if lookalikes.exclude(pk=self.pk).exists():
                errors["username"] = [LOOKALIKE_USERNAME_MESSAGE]
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs) -> None:
        self.username_skeleton = username_skeleton(self.username)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "username" in update_fields:
            kwargs["update_fields"] = {*update_fields, "username_skeleton"}
        super().save(*args, **kwargs)
