"""``./run manage doctor [--url https://meet.example.org]``: check this deployment, line by line."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from signaling import doctor


class Command(BaseCommand):
    help = (
        "Check the deployment from this server: settings, database, Redis, the channel layer "
        "between two processes, TURN (a real allocation), Janus, and the public URL's TLS and "
        "WebSocket upgrade. Exits 1 when anything is wrong."
    )
    requires_system_checks = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--url", help="the site's public https:// address, to check from here")
        parser.add_argument("--ca-file", help="trust this CA file for --url (a private CA)")
        parser.add_argument(doctor.ECHO_FLAG, action="store_true", help="(internal)")

    def handle(self, *args, **options) -> None:
        if options["layer_echo"]:
            doctor.layer_echo()
            return
        findings = doctor.run_checks(url=options["url"], ca_file=options["ca_file"])
        status = doctor.report(findings, self.stdout)
        if status:
            raise SystemExit(status)
