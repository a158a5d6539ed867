from django.http import HttpResponse


def signup(request):  # Replaced by the foundation work.
    return HttpResponse("signup")
