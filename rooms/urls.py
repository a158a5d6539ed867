from django.urls import path

from rooms import views

app_name = "rooms"
urlpatterns = [
    path("new/", views.room_new, name="new"),
    path("<slug:slug>/", views.room_detail, name="detail"),
    path("<slug:slug>/edit/", views.room_edit, name="edit"),
    path("<slug:slug>/status/", views.room_status, name="status"),
    path("<slug:slug>/guest/", views.room_guest_enter, name="guest-enter"),
    path("<slug:slug>/invite/rotate/", views.room_rotate_invite, name="rotate-invite"),
    path("<slug:slug>/close/", views.room_close, name="close"),
    path("<slug:slug>/reopen/", views.room_reopen, name="reopen"),
    path("<slug:slug>/people/<int:user_id>/ban/", views.room_ban, name="ban"),
    path("<slug:slug>/people/", views.room_person, name="person"),
]
