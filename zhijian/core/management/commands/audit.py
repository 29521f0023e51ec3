"""`zhijian audit verify|checkpoint|keygen|show`: operate and prove the audit log."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from zhijian.core import audit, signing


def _public_key(value: str) -> tuple[str, str]:
    """A trusted public key as 64 hex digits; its key id is derived from it."""
    value = value.strip().lower()
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise ValueError(value)
    return signing.key_id_for(raw), value


class Command(BaseCommand):
    help = (
        "Operate the tamper-evident audit log. verify: check the whole chain and the signed "
        "checkpoints, naming the first entry that was altered, removed or reordered (exit "
        "status 1). checkpoint: sign the chain head now. keygen: write a new checkpoint "
        "signing key. show: print the history of one record."
    )

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True, metavar="SUBCOMMAND")
        verify = sub.add_parser("verify", help="check the whole log and its checkpoints")
        verify.add_argument(
            "--public-key", action="append", type=_public_key, default=None, metavar="HEX",
            help="trust only checkpoints signed with this Ed25519 public key (64 hex "
                 "digits, as published); repeat for several keys. Default: the keys "
                 "published in the database.")
        verify.add_argument("--workers", type=int, default=None,
                            help="processes for large logs (default: one per CPU)")
        sub.add_parser("checkpoint", help="sign the chain head now")
        keygen = sub.add_parser("keygen", help="write a new Ed25519 checkpoint signing key")
        keygen.add_argument("--path", type=Path, default=None,
                            help="key file to create (default: ZHIJIAN_AUDIT_KEY_FILE)")
        show = sub.add_parser("show", help="print the history of one record")
        show.add_argument("object_type", help="model label, e.g. registry.marketentity")
        show.add_argument("object_id")
        show.add_argument("--json", action="store_true", help="print the entries as JSON")

    def handle(self, *args, subcommand, **options):
        return getattr(self, f"handle_{subcommand}")(**options)

    def handle_verify(self, *, public_key=None, workers=None, **options):
        trusted = dict(public_key) if public_key else None
        result = audit.verify(workers=workers, trusted_keys=trusted)
        if not result.ok:
            raise CommandError(
                _("FAILED at entry %(seq)s (%(code)s): %(problem)s") % {
                    "seq": result.first_bad_seq, "code": result.code,
                    "problem": result.problem},
                returncode=1,
            )
        self.stdout.write(
            _("OK: %(count)s entries, %(checkpoints)s signed checkpoints, head %(seq)s "
              "%(hash)s") % {"count": result.checked, "checkpoints": result.checkpoints,
                            "seq": result.head_seq, "hash": result.head_hash}
        )

    def handle_checkpoint(self, **options):
        try:
            cp = audit.checkpoint_create()
        except (FileNotFoundError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        if cp is None:
            self.stdout.write(_("The audit log is empty; there is nothing to sign."))
            return
        self.stdout.write(
            _("Checkpoint at entry %(seq)s signed with key %(key)s.") % {
                "seq": cp.seq, "key": cp.key_id})
        self.stdout.write(f"statement: {cp.statement}")
        self.stdout.write(f"signature: {cp.signature}")

    def handle_keygen(self, *, path=None, **options):
        path = Path(path or settings.ZHIJIAN_AUDIT_KEY_FILE)
        try:
            signing.keygen(path)
        except FileExistsError:
            raise CommandError(
                _("%(path)s already exists; a signing key is never overwritten. Move it "
                  "away first if you really mean to replace it.") % {"path": path}
            ) from None
        key = signing.load_key(path)
        self.stdout.write(_("Wrote a new Ed25519 key to %(path)s.") % {"path": path})
        self.stdout.write(f"key id: {key.key_id}")
        self.stdout.write(f"public key: {key.public_hex}")

    def handle_show(self, *, object_type, object_id, json=False, **options):
        entries = audit.history(object_type, object_id)
        if not entries:
            raise CommandError(
                _("No audit entries for %(type)s %(id)s.") % {"type": object_type,
                                                             "id": object_id})
        if json:
            self.stdout.write(_dumps(entries, indent=2))
            return
        for e in entries:
            line = f"#{e['seq']} {e['ts']} {e['actor']} {e['action']}"
            if e["reason"]:
                line += f" — {e['reason']}"
            self.stdout.write(line)
            for key, old, new in _changes(e["before"], e["after"]):
                self.stdout.write(f"    {key}: {_dumps(old)} → {_dumps(new)}")
            self.stdout.write(f"    hash {e['hash']}")


def _dumps(value, **kwargs) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, **kwargs)


def _changes(before, after):
    before, after = before or {}, after or {}
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key), after.get(key)
        if old != new:
            yield key, old, new
