"""Forms of the test-report pages.

Forms only collect and check input; every write goes through reports.services and
reports.hazards, and the views put a service's refusal next to the field it names
(web.common.call_service). Fields carry the names the services use in their errors
("number", "standard", "instruments", "signature", "reason", "public_key", …)."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhijian.registry.models import AccreditationScope, MarketEntity, ProductCategory, Standard
from zhijian.sampling.choices import SampleStatus
from zhijian.sampling.models import Sample
from zhijian.web.forms import BootstrapMixin, CategoryField, DateInput

from .choices import (
    Conclusion,
    HazardStatus,
    ReportKind,
    ReportStatus,
    RevocationGround,
    Verdict,
)
from .models import Instrument, LabKey, Report

ITEM_ROWS = 12
ITEM_FIELDS = ("parameter", "requirement", "measured", "unit", "verdict")


class InstrumentChoiceField(forms.ModelMultipleChoiceField):
    widget = forms.CheckboxSelectMultiple

    def label_from_instance(self, obj):
        return " ".join(p for p in (obj.name, obj.model, obj.serial_number) if p)


class SampleChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} · {obj.product_name} · {obj.batch}"


class StandardChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.code} {obj.title}"


class ReportForm(BootstrapMixin, forms.Form):
    """A lab user records a test report as a draft: the header, up to twelve test items
    (empty rows are ignored) and the instruments used."""

    number = forms.CharField(label=_("report number"), max_length=40)
    kind = forms.ChoiceField(label=pgettext_lazy("report", "Kind"), choices=ReportKind.choices,
                             initial=ReportKind.COMMISSIONED)
    sample = SampleChoiceField(
        label=_("sample"), queryset=Sample.objects.none(), required=False,
        empty_label=_("— no sample (commissioned or witness test) —"),
        help_text=_("Samples assigned to your laboratory and received. A supervisory "
                    "report must name its sample; the producer, batch, category and "
                    "product name then come from the sample."))
    producer = forms.CharField(label=_("Producer's USCC"), max_length=18, required=False)
    client = forms.CharField(label=_("Client's USCC"), max_length=18, required=False,
                             help_text=_("The firm that commissioned the test, if any."))
    product_name = forms.CharField(label=_("product name"), max_length=120, required=False)
    model = forms.CharField(label=_("model / specification"), max_length=120, required=False)
    category = CategoryField(label=_("category"), required=False,
                             queryset=ProductCategory.objects.order_by("code"))
    batch = forms.CharField(label=_("batch number"), max_length=60, required=False)
    quantity_covered = forms.DecimalField(
        label=_("quantity covered"), max_digits=14, decimal_places=3,
        help_text=_("How much of the batch the report speaks for; deliveries may not claim "
                    "more."))
    unit = forms.CharField(label=_("unit"), max_length=10)
    standard = StandardChoiceField(
        label=_("standard"), queryset=Standard.objects.none(),
        help_text=_("Standards in your laboratory's current accredited scope."))
    received_on = forms.DateField(label=_("sample received on"), widget=DateInput())
    tested_from = forms.DateField(label=_("testing started on"), widget=DateInput())
    tested_to = forms.DateField(label=_("testing finished on"), widget=DateInput())
    conclusion = forms.ChoiceField(label=_("conclusion"),
                                   choices=[("", "---------"), *Conclusion.choices])
    remarks = forms.CharField(label=_("remarks"), required=False, max_length=5000,
                              widget=forms.Textarea(attrs={"rows": 2}))
    authorised_by = forms.CharField(label=_("authorised signatory"), max_length=50)
    supersedes = forms.CharField(
        label=_("Replaces report number"), max_length=40, required=False,
        help_text=_("Only to replace one of your laboratory's issued reports; the old one "
                    "is marked superseded when this one is issued."))
    instruments = InstrumentChoiceField(label=_("instruments used"),
                                        queryset=Instrument.objects.none())

    def __init__(self, *args, lab, **kwargs):
        self.lab = lab
        super().__init__(*args, **kwargs)
        today = timezone.localdate()
        # A sample with an issued report gets a replacement report, not a second one.
        self.fields["sample"].queryset = (
            Sample.objects.filter(lab=lab, status=SampleStatus.RECEIVED)
            .exclude(reports__status=ReportStatus.ISSUED).order_by("-received_at", "-id"))
        self.fields["standard"].queryset = Standard.objects.filter(
            pk__in=AccreditationScope.objects.valid_on(today).filter(lab=lab)
            .values("standard_id")).order_by("code")
        self.fields["instruments"].queryset = Instrument.objects.filter(lab=lab)
        verdicts = [("", "—"), *Verdict.choices]
        for n in range(1, ITEM_ROWS + 1):
            for name, field in (
                    ("parameter", forms.CharField(max_length=80)),
                    ("requirement", forms.CharField(max_length=200)),
                    ("measured", forms.CharField(max_length=80)),
                    ("unit", forms.CharField(max_length=20)),
                    ("verdict", forms.ChoiceField(choices=verdicts))):
                field.required = False
                field.label = f"{n} {ITEM_LABELS[name]}"
                css = "form-select form-select-sm" if name == "verdict" else \
                    "form-control form-control-sm"
                field.widget.attrs["class"] = css
                self.fields[f"item_{n}_{name}"] = field

    def item_rows(self):
        """[(n, [bound fields of the row])] for the template's table."""
        return [(n, [self[f"item_{n}_{name}"] for name in ITEM_FIELDS])
                for n in range(1, ITEM_ROWS + 1)]

    def item_errors(self) -> list[str]:
        return [e for n in range(1, ITEM_ROWS + 1) for name in ITEM_FIELDS
                for e in self.errors.get(f"item_{n}_{name}", [])]

    def _entity(self, name: str):
        code = (self.cleaned_data.get(name) or "").strip().upper()
        if not code:
            return None
        entity = MarketEntity.objects.filter(uscc=code).first()
        if entity is None:
            self.add_error(name, _("No market entity has the USCC %(code)s; check the code "
                                   "(18 characters) or ask a regulator to register the "
                                   "entity.") % {"code": code})
        return entity

    def clean(self):
        data = super().clean()
        self.producer_entity = self._entity("producer")
        self.client_entity = self._entity("client")
        self.supersedes_report = None
        number = (data.get("supersedes") or "").strip()
        if number:
            self.supersedes_report = Report.objects.filter(
                lab=self.lab, number=number, status=ReportStatus.ISSUED).first()
            if self.supersedes_report is None:
                self.add_error("supersedes", _(
                    "Your laboratory has no current issued report numbered %(number)s; give "
                    "the number of the report this one replaces, or leave the field empty.")
                    % {"number": number})
        if data.get("sample") is None:
            if data.get("category") is None and "category" not in self.errors:
                self.add_error("category", _("Choose the product category (or choose the "
                                             "sample)."))
            if not (data.get("product_name") or "").strip() and "product_name" not in self.errors:
                self.add_error("product_name", _("Give the product name (or choose the "
                                                 "sample)."))
            if not data.get("producer") and "producer" not in self.errors:
                self.add_error("producer", _("Give the producer's USCC (or choose the "
                                             "sample)."))
        self.items = []
        for n in range(1, ITEM_ROWS + 1):
            row = {name: (data.get(f"item_{n}_{name}") or "").strip() for name in ITEM_FIELDS}
            if not any(row.values()):
                continue
            for name in ("parameter", "requirement", "measured", "verdict"):
                if not row[name]:
                    self.add_error(f"item_{n}_{name}", _(
                        "Row %(n)d: fill in %(field)s, or empty the whole row.")
                        % {"n": n, "field": ITEM_LABELS[name]})
            self.items.append(row)
        if not self.items and not any(k.startswith("item_") for k in self.errors):
            raise ValidationError(_("Add at least one test item in the table."))
        return data

    def service_kwargs(self) -> dict:
        d = self.cleaned_data
        data = {
            "number": d["number"].strip(), "kind": d["kind"], "sample": d.get("sample"),
            "producer": self.producer_entity, "client": self.client_entity,
            "product_name": d.get("product_name", ""), "model": d.get("model", ""),
            "category": d.get("category"), "batch": d.get("batch", ""),
            "quantity_covered": d["quantity_covered"], "unit": d["unit"],
            "standard": d["standard"], "received_on": d["received_on"],
            "tested_from": d["tested_from"], "tested_to": d["tested_to"],
            "conclusion": d["conclusion"], "remarks": d.get("remarks", ""),
            "authorised_by": d["authorised_by"], "supersedes": self.supersedes_report,
        }
        return {"data": data, "items": self.items,
                "instrument_ids": [i.pk for i in d["instruments"]]}


ITEM_LABELS = {
    "parameter": _("parameter"),
    "requirement": _("requirement"),
    "measured": _("measured value"),
    "unit": _("unit"),
    "verdict": _("verdict"),
}


class ReportFilterForm(BootstrapMixin, forms.Form):
    q = forms.CharField(label=_("Report number, producer or batch"), required=False,
                        max_length=60)
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status")), *ReportStatus.choices])


class ActionForm(forms.Form):
    """No input: carries a service's refusal of a button (issue, acknowledge)."""


class PrepareForm(BootstrapMixin, forms.Form):
    key = forms.ModelChoiceField(label=_("signing key"), queryset=LabKey.objects.none(),
                                 to_field_name="key_id", empty_label=None)

    def __init__(self, *args, lab_id, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["key"].queryset = LabKey.objects.filter(
            lab_id=lab_id, retired_at__isnull=True, custody="lab").order_by("-registered_at")


class SignForm(BootstrapMixin, forms.Form):
    signature = forms.CharField(
        label=_("Signature (hex)"), max_length=200,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false",
                                     "class": "font-monospace"}),
        help_text=_("The Ed25519 signature over the payload above, 128 hexadecimal digits."))


class RevokeForm(BootstrapMixin, forms.Form):
    ground = forms.ChoiceField(
        label=_("Ground"), choices=RevocationGround.choices, initial=RevocationGround.ERROR,
        widget=forms.RadioSelect, required=False,
        help_text=_("Signed and published with the revocation. A report found false or "
                    "forged is a finding against the laboratory and goes on its credit "
                    "record; only a regulator may make it."))
    reason = forms.CharField(label=_("Reason for revoking"), max_length=2000,
                             widget=forms.Textarea(attrs={"rows": 2}),
                             help_text=_("Published with the revocation."))

    def __init__(self, *args, regulator: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if not regulator:
            # A lab (or an administrator) is offered only "error"; the service refuses
            # "false" from them, naming the field, should it be posted anyway.
            self.fields["ground"].widget.choices = [
                c for c in RevocationGround.choices if c[0] == RevocationGround.ERROR]

    def clean_ground(self):
        return self.cleaned_data.get("ground") or RevocationGround.ERROR


class HazardForm(BootstrapMixin, forms.Form):
    description = forms.CharField(
        label=_("Describe the hazard"), max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("What you found, in which product and batch, and why it is serious. "
                    "The report goes at once to the department responsible for the product "
                    "in the producer's division."))


class KeyRegisterForm(BootstrapMixin, forms.Form):
    public_key = forms.CharField(
        label=_("Public key (hex)"), max_length=200,
        widget=forms.TextInput(attrs={"spellcheck": "false", "class": "font-monospace"}),
        help_text=_("The raw Ed25519 public key: 32 bytes as 64 hexadecimal digits. The "
                    "private key stays with your laboratory."))


class KeyGenerateForm(BootstrapMixin, forms.Form):
    confirm = forms.BooleanField(
        label=_("I understand that the platform, not my laboratory, will hold this private "
                "key, and that every report signed with it will say so."),
        error_messages={"required": _("Tick the box to confirm that the platform will hold "
                                      "the private key.")})


class KeyRetireForm(BootstrapMixin, forms.Form):
    reason = forms.CharField(label=_("Reason for retiring"), max_length=500, required=False)


class InstrumentForm(BootstrapMixin, forms.Form):
    name = forms.CharField(label=_("name"), max_length=120)
    model = forms.CharField(label=_("model"), max_length=80, required=False)
    serial_number = forms.CharField(label=_("serial number"), max_length=60)


class CalibrationForm(BootstrapMixin, forms.Form):
    certificate_number = forms.CharField(label=_("certificate number"), max_length=60)
    calibrated_by = forms.CharField(label=_("calibrated by"), max_length=120,
                                    help_text=_("the metrology institute"))
    calibrated_on = forms.DateField(label=_("calibrated on"), widget=DateInput())
    valid_until = forms.DateField(label=_("valid until"), widget=DateInput())


class HazardFilterForm(BootstrapMixin, forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any status")), *HazardStatus.choices])
