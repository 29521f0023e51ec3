"""The registers every module stands on: departments and their duties (M2.3), market
entities and their products (M2.1, M3.4), laboratories with accreditation scopes (M2.4,
M4.2), user units (M2.5) and inspectors (M3.2)."""

from __future__ import annotations

from django.contrib.postgres.fields import ArrayField
from django.db import connections, models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from zhijian.core.validators import validate_uscc

from .choices import (
    DepartmentKind,
    DutyRole,
    EntityStatus,
    EntityType,
    LabStatus,
    Level,
    RiskClass,
    UserUnitSector,
)


class ProductCategoryQuerySet(models.QuerySet):
    def expand(self, codes) -> set[str]:
        """The given category codes and all their descendants (codes nest by dots)."""
        codes = set(codes)
        if not codes:
            return set()
        q = Q(code__in=codes)
        for c in codes:
            q |= Q(code__startswith=c + ".")
        return set(self.filter(q).values_list("code", flat=True))


class ProductCategory(models.Model):
    """A node of the product catalogue (产品目录). Codes nest: "electrical.cable"."""

    code = models.CharField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=80)
    name_en = models.CharField(_("English name"), max_length=120)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    ccc = models.BooleanField(_("compulsory certification (CCC)"), default=False)
    key_material = models.BooleanField(
        _("key material (witness inspection on acceptance)"), default=False
    )
    licence_required = models.BooleanField(_("production licence required"), default=False)
    qualification = models.CharField(
        _("inspector qualification required"), max_length=60, blank=True,
        help_text=_("e.g. special-equipment inspector; empty if none"),
    )

    objects = ProductCategoryQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("product category")
        verbose_name_plural = _("product categories")

    def __str__(self) -> str:
        return self.name


class Standard(models.Model):
    """A product or test standard (GB, GB/T, industry, enterprise standard)."""

    code = models.CharField(_("standard number"), max_length=60, unique=True)
    title = models.CharField(_("title"), max_length=200)
    title_en = models.CharField(_("English title"), max_length=240, blank=True)
    categories = models.ManyToManyField(ProductCategory, blank=True, related_name="standards")

    class Meta:
        ordering = ["code"]
        verbose_name = _("standard")
        verbose_name_plural = _("standards")

    def __str__(self) -> str:
        return self.code


class DepartmentQuerySet(models.QuerySet):
    def in_division(self, prefix: str):
        return self.filter(division__code__startswith=prefix)


class Department(models.Model):
    """A government department at one level: a market supervision bureau, a housing and
    construction bureau, a public security bureau, … Its division fixes its jurisdiction;
    `all_sectors` or `sectors` fix which product categories it supervises."""

    code = models.CharField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    kind = models.CharField(_("kind"), max_length=20, choices=DepartmentKind.choices)
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    division = models.ForeignKey(
        "core.Division", on_delete=models.PROTECT, related_name="departments",
        verbose_name=_("division"),
    )
    all_sectors = models.BooleanField(_("supervises every sector"), default=False)
    sectors = models.ManyToManyField(
        ProductCategory, blank=True, related_name="departments", verbose_name=_("sectors")
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)

    objects = DepartmentQuerySet.as_manager()

    class Meta:
        ordering = ["division_id", "kind"]
        verbose_name = _("department")
        verbose_name_plural = _("departments")
        constraints = [
            models.UniqueConstraint(fields=["division", "kind"], name="one_department_per_kind")
        ]

    def __str__(self) -> str:
        return self.name


class Responsibility(models.Model):
    """One cell of the responsibility matrix (M2.3, "who approves, who answers"): for a
    product category at an administrative level, which kind of department leads or
    assists. A category × level with no lead is a blind spot; two leads, an overlap."""

    category = models.ForeignKey(
        ProductCategory, on_delete=models.PROTECT, related_name="responsibilities",
        verbose_name=_("product category"),
    )
    level = models.CharField(_("level"), max_length=10, choices=Level.choices)
    kind = models.CharField(_("department kind"), max_length=20, choices=DepartmentKind.choices)
    role = models.CharField(_("role"), max_length=10, choices=DutyRole.choices)
    legal_basis = models.CharField(_("legal basis"), max_length=200, blank=True)

    class Meta:
        ordering = ["category__code", "level", "role", "kind"]
        verbose_name = _("responsibility")
        verbose_name_plural = _("responsibility matrix")
        constraints = [
            models.UniqueConstraint(
                fields=["category", "level", "kind"], name="one_duty_per_kind_level"
            )
        ]

    def __str__(self) -> str:
        return f"{self.category} / {self.level} / {self.kind} ({self.role})"


class MarketEntityQuerySet(models.QuerySet):
    def in_division(self, prefix: str):
        return self.filter(division__code__startswith=prefix)

    def search(self, term: str):
        """Entities whose name contains `term` or whose USCC starts with it (a full USCC
        matches exactly). On PostgreSQL the name test goes through the bigram index of
        migration 0002_search_indexes; docs/benchmarks.md, "Public search", says why."""
        term = term.strip()
        if not term:
            return self
        code = term.upper()
        if len(term) == 18 and term.isalnum():
            return self.filter(uscc=code)
        if looks_like_code_prefix(code):
            return self.filter(uscc__startswith=code)
        qs, q = self, Q(name__contains=term)
        grams = bigrams(term)
        if grams and connections[self.db].vendor == "postgresql":
            qs = qs.alias(name_bigrams=NameBigrams("name"))
            q &= Q(name_bigrams__contains=grams)
        if code.isascii() and code.isalnum():  # only such a term can begin a USCC
            q |= Q(uscc__startswith=code)
        return qs.filter(q)


def looks_like_code_prefix(term: str) -> bool:
    """Six or more letters and digits, with a digit: the start of a USCC (its first eight
    characters are the authority, the type and the division code), not part of a name."""
    return (len(term) >= 6 and term.isascii() and term.isalnum()
            and any(c.isdigit() for c in term))


def bigrams(text: str) -> list[str]:
    """The distinct two-character substrings of `text`, sorted: the same set as the SQL
    function zhijian_bigrams() (registry migration 0002)."""
    return sorted({text[i:i + 2] for i in range(len(text) - 1)})


class NameBigrams(models.Func):
    """zhijian_bigrams(expression): PostgreSQL only, matches the GIN index on names."""

    function = "zhijian_bigrams"
    output_field = ArrayField(models.TextField())


class MarketEntity(models.Model):
    """A market entity (市场主体) identified by its Unified Social Credit Code."""

    uscc = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    name = models.CharField(_("name"), max_length=120, db_index=True)
    entity_type = models.CharField(
        _("entity type"), max_length=12, choices=EntityType.choices, default=EntityType.ENTERPRISE
    )
    division = models.ForeignKey(
        "core.Division", on_delete=models.PROTECT, related_name="entities",
        verbose_name=_("division"),
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    legal_representative = models.CharField(_("legal representative"), max_length=50)
    chief_quality_officer = models.CharField(
        _("chief quality officer"), max_length=50, blank=True
    )
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    registered_on = models.DateField(_("registered on"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=EntityStatus.choices, default=EntityStatus.ACTIVE
    )
    categories = models.ManyToManyField(
        ProductCategory, blank=True, related_name="entities", verbose_name=_("categories")
    )
    risk_class = models.CharField(
        _("risk class"), max_length=1, choices=RiskClass.choices, default=RiskClass.B
    )
    licence_holder = models.BooleanField(_("holds a production licence"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MarketEntityQuerySet.as_manager()

    # Fields the public may see (business registration information is public by law).
    PUBLIC_FIELDS = ("uscc", "name", "entity_type", "division", "status", "registered_on")

    class Meta:
        ordering = ["uscc"]
        verbose_name = _("market entity")
        verbose_name_plural = _("market entities")

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    """A product an entity makes or sells, with the standards it declares
    (企业标准自我声明公开, M2.1)."""

    entity = models.ForeignKey(
        MarketEntity, on_delete=models.PROTECT, related_name="products",
        verbose_name=_("market entity"),
    )
    name = models.CharField(_("name"), max_length=120)
    model = models.CharField(_("model / specification"), max_length=120, blank=True)
    category = models.ForeignKey(
        ProductCategory, on_delete=models.PROTECT, related_name="products",
        verbose_name=_("category"),
    )
    standards = models.ManyToManyField(
        Standard, blank=True, related_name="products", verbose_name=_("declared standards")
    )
    gtin = models.CharField(_("GTIN"), max_length=14, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["entity_id", "name"]
        verbose_name = _("product")
        verbose_name_plural = _("products")

    def __str__(self) -> str:
        return f"{self.name} {self.model}".strip()


class Lab(models.Model):
    """A third-party testing laboratory (检验检测机构) with CMA and CNAS numbers."""

    name = models.CharField(_("name"), max_length=120)
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    division = models.ForeignKey(
        "core.Division", on_delete=models.PROTECT, related_name="labs", verbose_name=_("division")
    )
    address = models.CharField(_("address"), max_length=200, blank=True)
    cma_number = models.CharField(_("CMA certificate number"), max_length=30, unique=True)
    cnas_number = models.CharField(_("CNAS accreditation number"), max_length=30, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=LabStatus.choices, default=LabStatus.ACTIVE
    )
    monthly_capacity = models.PositiveIntegerField(
        _("reports per month it can issue"), default=500
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("laboratory")
        verbose_name_plural = _("laboratories")

    def __str__(self) -> str:
        return self.name


class AccreditationScopeQuerySet(models.QuerySet):
    def valid_on(self, day):
        return self.filter(valid_from__lte=day).filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day))


class AccreditationScope(models.Model):
    """One line of a lab's accredited scope: a standard and a parameter it may test,
    from when to when. An empty parameter means every parameter of the standard."""

    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="scopes")
    standard = models.ForeignKey(
        Standard, on_delete=models.PROTECT, related_name="scopes", verbose_name=_("standard")
    )
    parameter = models.CharField(_("parameter"), max_length=80, blank=True)
    valid_from = models.DateField(_("valid from"))
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    objects = AccreditationScopeQuerySet.as_manager()

    class Meta:
        ordering = ["lab_id", "standard__code", "parameter"]
        verbose_name = _("accreditation scope")
        verbose_name_plural = _("accreditation scopes")
        constraints = [
            models.CheckConstraint(
                name="scope_dates_ordered",
                condition=Q(valid_to__isnull=True) | Q(valid_to__gte=models.F("valid_from")),
            )
        ]

    def __str__(self) -> str:
        return f"{self.standard.code} {self.parameter or '*'}"


class UserUnit(models.Model):
    """A purchasing user unit (用户单位) such as a metro company or a power utility."""

    name = models.CharField(_("name"), max_length=120)
    uscc = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    division = models.ForeignKey(
        "core.Division", on_delete=models.PROTECT, related_name="user_units",
        verbose_name=_("division"),
    )
    sector = models.CharField(_("sector"), max_length=14, choices=UserUnitSector.choices)
    categories = models.ManyToManyField(
        ProductCategory, blank=True, related_name="user_units",
        verbose_name=_("categories purchased"),
    )
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("user unit")
        verbose_name_plural = _("user units")

    def __str__(self) -> str:
        return self.name


class Inspector(models.Model):
    """A law-enforcement inspector of a department (执法检查人员), the pool for random
    inspector draws."""

    name = models.CharField(_("name"), max_length=50)
    badge_number = models.CharField(_("enforcement badge number"), max_length=30, unique=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="inspectors",
        verbose_name=_("department"),
    )
    qualifications = models.JSONField(_("qualifications"), default=list, blank=True)
    user = models.OneToOneField(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="inspector",
    )
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["department_id", "badge_number"]
        verbose_name = _("inspector")
        verbose_name_plural = _("inspectors")

    def __str__(self) -> str:
        return f"{self.name} ({self.badge_number})"


class DivisionStats(models.Model):
    """Counts per division kept up to date by an event subscriber (entity.registered),
    read by the dashboards instead of counting a million rows per page view."""

    division = models.OneToOneField("core.Division", on_delete=models.CASCADE, primary_key=True)
    entities = models.PositiveIntegerField(default=0)
