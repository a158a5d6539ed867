from django.http import HttpResponse


def home(request):  # Replaced by the foundation work.
    return HttpResponse("home")


def room_new(request):
    return HttpResponse("new")


def room_detail(request, slug):
    return HttpResponse(slug)
