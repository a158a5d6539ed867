from django.urls import path

from signaling import views

urlpatterns = [
    path("turn/", views.turn_credentials, name="turn"),
]
