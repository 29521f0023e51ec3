"""The zh_Hans catalogue is complete: no empty or fuzzy entry, and every translation keeps
the placeholders of its source string."""

import re
from pathlib import Path

import polib
from django.conf import settings

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]|\{\w*\}")


def catalogue():
    return polib.pofile(str(Path(settings.LOCALE_PATHS[0]) / "zh_Hans/LC_MESSAGES/django.po"))


def test_every_entry_is_translated_and_none_is_fuzzy():
    po = catalogue()
    assert len(po) > 300
    assert [e.msgid for e in po.fuzzy_entries()] == []
    assert [e.msgid for e in po.untranslated_entries()] == []


def test_translations_keep_their_placeholders():
    wrong = []
    for e in catalogue():
        if e.msgid_plural:
            pairs = [(e.msgid_plural, s) for s in e.msgstr_plural.values()]
        else:
            pairs = [(e.msgid, e.msgstr)]
        for source, target in pairs:
            if sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(target)):
                wrong.append(source)
    assert wrong == []
