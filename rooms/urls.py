from django.urls import path

from rooms import views

app_name = "rooms"
urlpatterns = [
    path("new/", views.room_new, name="new"),
    path("<slug:slug>/", views.room_detail, name="detail"),
]
