"""Django's ``makemessages``, taught where meet's strings are.

The browser code translates with ``t("...")`` and ``tn("...", "...", count)`` (static/js/i18n.js)
rather than calling ``gettext`` by its long name, so xgettext is told those names for the
``djangojs`` domain. Folders that hold no strings of meet's own are skipped whatever the
command line says: installed JavaScript tools, collected static files, tests and deployment
files. So, from the project's root:

    ./run manage makemessages -l de                 # templates and Python: django.po
    ./run manage makemessages -l de -d djangojs     # static/js: djangojs.po
    ./run manage compilemessages                    # the .mo files served

write and compile ``locale/<code>/LC_MESSAGES/`` (``LOCALE_PATHS``).
"""

from __future__ import annotations

from django.core.management.commands import makemessages

# Matched by Django against each folder's name and path below the current directory.
NOT_OURS = ["node_modules", "staticfiles", "tests", "bench", "deploy", "docs", "test-artifacts"]
JAVASCRIPT_KEYWORDS = ["--keyword=t", "--keyword=tn:1,2"]


class Command(makemessages.Command):
    def handle(self, *args, **options):
        options["ignore_patterns"] = [*options.get("ignore_patterns", []), *NOT_OURS]
        if options.get("domain") == "djangojs":
            self.xgettext_options = [*self.xgettext_options, *JAVASCRIPT_KEYWORDS]
        return super().handle(*args, **options)
