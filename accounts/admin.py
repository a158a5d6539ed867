"""Users in the admin: Django's user admin plus the display name and whether one is a guest."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = (
        "username",
        "display_name",
        "email",
        "is_active",
        "is_staff",
        "is_guest",
        "date_joined",
    )
    list_filter = ("is_active", "is_staff", "is_superuser", "is_guest")
    # A guest is made by the guest entry alone (issue #12); nobody turns an account into one.
    readonly_fields = ("is_guest",)
    search_fields = ("username", "display_name", "email")
    list_editable = ("is_active",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            _("Profile"),
            {"fields": ("display_name", "first_name", "last_name", "email", "is_guest")},
        ),
        (
            _("Permissions"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("Dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "display_name",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
