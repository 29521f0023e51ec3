"""Django-facing validators built on the pure identifier and division modules."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from . import identifiers

# Registration-authority codes of functional zones whose market regulators register
# entities under their own number although GB/T 2260 lists no such division (seen on
# real Xi'an codes: 610131 high-tech zone, 610132 economic and technological development
# zone). Recorded here rather than guessed further; add others as they are confirmed.
REGISTRATION_ZONE_CODES = ("610131", "610132")


def uscc_messages(value: str) -> list[str]:
    """Translated explanation of every problem in a Unified Social Credit Code."""
    problems = identifiers.validate_uscc(value, extra_divisions=REGISTRATION_ZONE_CODES)
    out = []
    for p in problems:
        d = p.detail
        if p.code == "length":
            out.append(
                _("A unified social credit code has 18 characters; this one has %(n)s.")
                % {"n": d.get("found", len(value or ""))}
            )
        elif p.code == "alphabet":
            out.append(
                _(
                    "Character %(pos)s (“%(char)s”) is not allowed: use digits and capital "
                    "letters except I, O, Z, S and V."
                )
                % {"pos": p.position, "char": d.get("found", "")}
            )
        elif p.code == "registration_authority":
            out.append(
                _("Character 1 (“%(char)s”) is not a registration authority code of GB 32100.")
                % {"char": d.get("found", "")}
            )
        elif p.code == "entity_type":
            out.append(
                _(
                    "Character 2 (“%(char)s”) is not an entity type that registration "
                    "authority “%(auth)s” issues."
                )
                % {"char": d.get("found", ""), "auth": d.get("authority", "")}
            )
        elif p.code == "division":
            out.append(
                _(
                    "Characters 3–8 (“%(code)s”) are not an administrative division code "
                    "(GB/T 2260), current or historical."
                )
                % {"code": d.get("found", "")}
            )
        elif p.code == "org_code_check":
            out.append(
                _(
                    "The organisation code in characters 9–17 fails its check digit "
                    "(GB 11714): expected “%(exp)s”, found “%(found)s”."
                )
                % {"exp": d.get("expected", ""), "found": d.get("found", "")}
            )
        elif p.code == "check_character":
            out.append(
                _(
                    "The check character (character 18) is wrong: expected “%(exp)s”, "
                    "found “%(found)s”. Check the code for a typing error."
                )
                % {"exp": d.get("expected", ""), "found": d.get("found", "")}
            )
        else:
            out.append(_("The unified social credit code is invalid (%(code)s).") % {"code": p.code})
    return out


def validate_uscc(value: str) -> None:
    messages = uscc_messages(value)
    if messages:
        raise ValidationError(messages, code="invalid_uscc")
