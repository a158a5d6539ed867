from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A person who can log in. `display_name` is what others see in a call."""

    display_name = models.CharField(max_length=80, blank=True)

    def __str__(self) -> str:
        return self.username

    @property
    def shown_name(self) -> str:
        """The name others see: the display name when set, else the username."""
        return self.display_name or self.username
