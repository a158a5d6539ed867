from django.http import JsonResponse


def turn_credentials(request):  # Replaced by the TURN work.
    return JsonResponse({})
