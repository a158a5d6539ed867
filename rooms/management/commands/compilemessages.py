"""Django's ``compilemessages``, kept to meet's own catalogs.

Django's walks every folder below the current one for ``locale`` directories, the virtualenv's
copy of Django included, and would rewrite their .mo files; here the folders that are not
meet's are skipped whatever the command line says, as in ``makemessages``.
"""

from __future__ import annotations

from django.core.management.commands import compilemessages

from rooms.management.commands.makemessages import NOT_OURS

# Hidden folders hold the virtualenv (.venv), the state folder and git's own files.
SKIPPED = [".*", *NOT_OURS]


class Command(compilemessages.Command):
    def handle(self, **options):
        options["ignore_patterns"] = [*options.get("ignore_patterns", []), *SKIPPED]
        return super().handle(**options)
