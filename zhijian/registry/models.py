"""The registers every module stands on: departments and their duties (M2.3), market
entities and their products (M2.1, M3.4), laboratories with accreditation scopes (M2.4,
M4.2), user units (M2.5) and inspectors (M3.2)."""

from __future__ import annotations

import hashlib
import time

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db import connections, models
from django.db.models import OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce, StrIndex
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from zhijian.core.divisions import level_of
from zhijian.core.models import Division
from zhijian.core.validators import validate_uscc

from .choices import (
    DepartmentKind,
    DutyRole,
    EntityStatus,
    EntityType,
    LabStatus,
    Level,
    Qualification,
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
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children",
        verbose_name=_("parent category"),
    )
    ccc = models.BooleanField(_("compulsory certification (CCC)"), default=False)
    key_material = models.BooleanField(
        _("key material (witness inspection on acceptance)"), default=False
    )
    licence_required = models.BooleanField(_("production licence required"), default=False)
    qualification = models.CharField(
        _("inspector qualification required"), max_length=60, blank=True,
        choices=Qualification.choices,
        help_text=_("The qualification every inspection team for this category needs; "
                    "empty if none."),
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
    categories = models.ManyToManyField(
        ProductCategory, blank=True, related_name="standards", verbose_name=_("categories")
    )

    class Meta:
        ordering = ["code"]
        verbose_name = _("standard")
        verbose_name_plural = _("standards")

    def __str__(self) -> str:
        return self.code


class DepartmentQuerySet(models.QuerySet):
    def in_division(self, prefix: str):
        return self.filter(division__code__startswith=prefix)

    def responsible_for(self, category_code: str, division_code: str) -> Department | None:
        """The department that answers for a product category in a division: the most
        local department (county, then city, then province) of a kind that leads the
        category, or its nearest ancestor category, at that level in the responsibility
        matrix; failing that, the most local market supervision department."""
        from zhijian.core.divisions import parent_code

        codes = [division_code]
        while (up := parent_code(codes[-1])) is not None:
            codes.append(up)
        parts = category_code.split(".")
        lineage = [".".join(parts[:i]) for i in range(len(parts), 0, -1)]
        duties: dict[str, dict[str, set[str]]] = {}
        for cat, level, kind in Responsibility.objects.filter(
                category__code__in=lineage, role="lead").values_list(
                "category__code", "level", "kind"):
            duties.setdefault(level, {}).setdefault(cat, set()).add(kind)
        departments = {(d.division_id, d.kind): d
                       for d in self.filter(division_id__in=codes).select_related("division")}
        for code in codes:
            level = level_of(code)
            by_cat = duties.get(level, {})
            kinds = next((by_cat[c] for c in lineage if c in by_cat), set())
            for kind in sorted(kinds):
                if (code, kind) in departments:
                    return departments[(code, kind)]
        for code in codes:
            if (code, "market") in departments:
                return departments[(code, "market")]
        return None


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

    def clean(self):
        super().clean()
        # The level follows from the division code (GB/T 2260): xx0000 is the province,
        # xxxx00 a city, any other code a county.
        if self.division_id and self.level:
            expected = level_of(self.division_id)
            if self.level != expected:
                raise ValidationError({"level": _(
                    "The level must match the division: %(code)s is at the level "
                    "“%(level)s”."
                ) % {"code": self.division_id, "level": Level(expected).label}})


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
        return self._search(term, walk_common=False)

    def public_search(self, term: str):
        """search(term) in public search order: by search_key, then USCC (the cursor
        ordering of PublicSearchPagination). The same entities as search(term).

        Under this order and a LIMIT, a name fragment that many entities share is found
        fastest by walking the (search_key, uscc) index: a match comes every 1/share rows.
        The bigram index would fetch and sort every match instead (90,000 for 股份有限),
        and the planner cannot tell the two cases apart: it multiplies the frequencies of
        a fragment's overlapping bigrams (股份, 份有, 有限) as if they were independent, so
        it underestimates a common fragment up to 200-fold. So the choice is made here,
        from a sample (SearchSample): a common fragment is tested with strpos(), whose
        selectivity the planner does not know and takes as high, so that it walks the
        index; any other fragment goes through the bigram index, as in search().
        """
        return self._search(term, walk_common=True).order_by(*SEARCH_ORDER)

    def with_credit_class(self):
        """Annotate `credit_class`: the class of the entity's credit rating (credit.
        CreditRating, the one source of the class), or the initial class of the register
        (risk_class) while the entity has not been rated yet."""
        return self.annotate(credit_class=Coalesce("credit_rating__risk_class", "risk_class"))

    def with_division_name(self):
        """Annotate `division_name` with a subquery rather than joining the divisions.
        Under ORDER BY … LIMIT, PostgreSQL evaluates the subquery for the rows of the page
        only; a join runs before the LIMIT, for every match, with a plan chosen from the
        estimated number of matches (a nested loop over all 4,000 matches of 西安佳, when
        the planner expected 15: 200 ms)."""
        division = Division.objects.filter(code=OuterRef("division_id")).order_by()
        return self.annotate(division_name=Subquery(division.values("name")))

    def _search(self, term: str, *, walk_common: bool):
        term = term.strip()
        if not term:
            return self
        code = term.upper()
        if len(term) == 18 and term.isalnum():
            return self.filter(uscc=code)
        if looks_like_code_prefix(code):
            return self.filter(uscc__startswith=code)
        prefix = code if code.isascii() and code.isalnum() else ""  # may begin a USCC
        qs, q = self, Q(name__contains=term)
        grams = bigrams(term)
        if grams and connections[self.db].vendor == "postgresql":
            if walk_common and SearchSample.share(self.db, term, prefix) >= COMMON_SHARE:
                qs = qs.alias(name_at=StrIndex("name", Value(term)))
                q = Q(name_at__gt=0)
            else:
                qs = qs.alias(name_bigrams=NameBigrams("name"))
                q &= Q(name_bigrams__contains=grams)
        if prefix:
            q |= Q(uscc__startswith=prefix)
        return qs.filter(q)


# The public search order (PublicSearchPagination.ordering is the same).
SEARCH_ORDER = ("search_key", "uscc")

# From this share of entities up, public_search() walks the search order instead of
# using the bigram index. Both cost about the same near sqrt(21 / entities), 0.5 % at a
# million entities: the walk reads 21 / share rows, the index reads share × entities
# rows and sorts them, each a random read of the table (docs/benchmarks.md, "Public
# search"). That is 20 hits in a sample of 5,000: the chance that a fragment of 0.1 % is
# taken as common, or one of 1 % as rare, is under 10⁻⁶ (binomial tails).
COMMON_SHARE = 0.004


class SearchSample:
    """A uniform sample of the register: the names and USCCs of the first SIZE entities
    in search order. search_key is a hash of the USCC, so they are a random sample
    whatever their division or name. Kept per process and database for TTL seconds,
    and read by one query: it only chooses the form of a query, never its results."""

    SIZE = 5000
    TTL = 900.0
    _cache: dict[str, tuple[float, int, str, str]] = {}

    @classmethod
    def share(cls, db: str, fragment: str, prefix: str = "") -> float:
        """Estimated share of entities whose name contains `fragment` or whose USCC
        starts with `prefix` (if given)."""
        size, names, usccs = cls._load(db)
        if not size:
            return 0.0
        hits = names.count(fragment) + (usccs.count("\n" + prefix) if prefix else 0)
        return hits / size

    @classmethod
    def clear(cls) -> None:
        cls._cache.clear()

    @classmethod
    def _load(cls, db: str) -> tuple[int, str, str]:
        now = time.monotonic()
        cached = cls._cache.get(db)
        if cached is None or cached[0] < now:
            rows = list(MarketEntity.objects.using(db).order_by(*SEARCH_ORDER)
                        .values_list("name", "uscc")[:cls.SIZE])
            # One string each, so that counting a fragment is one str.count(): names
            # hold no newline, and "\n" + prefix matches at the start of a USCC only.
            cached = (now + cls.TTL, len(rows), "\n".join(n for n, _ in rows),
                      "".join("\n" + u for _, u in rows))
            cls._cache[db] = cached
        return cached[1:]


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


def uscc_search_key(uscc: str) -> int:
    """The public search order of an entity: the first 53 bits of SHA-256 of its USCC
    (UTF-8), an integer from 0 to 2**53 - 1.

    53 bits, not 64: the value stays exact in JSON (the audit log's canonical JSON,
    RFC 8785, refuses larger integers). Among a million entities about 0.06 pairs are
    expected to share a key; the USCC breaks such ties.

    The USCC carries the registering division in positions 3-8, and names begin with a
    place, so in USCC order the entities matching a place name (西安, 延安) lie together
    and a LIMIT walk meets them late. In hash order matches are spread evenly: a fragment
    matching a share s of all entities fills a page of 20 after about 20/s rows
    (docs/benchmarks.md, "Public search"). Registry migration 0003 computes the same value
    in SQL (SEARCH_KEY_SQL).
    """
    return int.from_bytes(hashlib.sha256(uscc.encode()).digest()[:8], "big") >> 11


class SearchKeyField(models.BigIntegerField):
    """uscc_search_key() of the instance's USCC, set whenever the ORM writes the row:
    save() and bulk_create() both call pre_save(), so no write path can forget it. Raw
    SQL inserts must compute it themselves (benchmarks/bench_search.py does)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.pop("editable", None)
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = uscc_search_key(model_instance.uscc)
        setattr(model_instance, self.attname, value)
        return value


class MarketEntity(models.Model):
    """A market entity (市场主体) identified by its Unified Social Credit Code."""

    uscc = models.CharField(
        _("unified social credit code"), max_length=18, unique=True, validators=[validate_uscc]
    )
    name = models.CharField(_("name"), max_length=120, db_index=True)
    # The order of public search results (PublicSearchPagination), derived from the USCC.
    search_key = SearchKeyField(_("public search order"))
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
    # The class the entity starts with, set at registration or import. Once the entity
    # has a credit rating (credit.CreditRating), that rating's class is the entity's class
    # (`credit_class`, MarketEntityQuerySet.with_credit_class); this one is not updated.
    risk_class = models.CharField(
        _("initial risk class"), max_length=1, choices=RiskClass.choices, default=RiskClass.B,
        help_text=_("The class before the first credit rating; the credit rating's class "
                    "replaces it once the entity is rated."),
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
        indexes = [
            # Serves ORDER BY search_key, uscc LIMIT n of the public search: the walk
            # meets matches at their overall rate, wherever their division lies.
            models.Index(fields=["search_key", "uscc"], name="registry_entity_search_order"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def credit_class(self) -> str:
        """The entity's class: its credit rating's class, or the initial class while it
        has no rating (the annotation of with_credit_class() when the query made it)."""
        if "_credit_class" in self.__dict__:
            return self.__dict__["_credit_class"]
        try:
            rating = self.credit_rating
        except ObjectDoesNotExist:
            return self.risk_class
        return rating.risk_class

    @credit_class.setter
    def credit_class(self, value: str) -> None:
        # with_credit_class() sets the annotation on each instance it loads.
        self.__dict__["_credit_class"] = value

    def get_credit_class_display(self) -> str:
        """The label of the credit class (a province's own letter is shown as it is)."""
        return str(dict(RiskClass.choices).get(self.credit_class, self.credit_class))


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

    name = models.CharField(pgettext_lazy("person", "name"), max_length=50)
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
    # "On duty" (在岗), in its own context: the bare msgid "active" is Django's, used for
    # user accounts (有效).
    active = models.BooleanField(pgettext_lazy("inspector", "active"), default=True)

    class Meta:
        ordering = ["department_id", "badge_number"]
        verbose_name = _("inspector")
        verbose_name_plural = _("inspectors")

    def __str__(self) -> str:
        return f"{self.name} ({self.badge_number})"

    def clean(self):
        super().clean()
        quals = self.qualifications
        if (not isinstance(quals, list) or not all(isinstance(q, str) for q in quals)
                or len(set(quals)) != len(quals)):
            raise ValidationError({"qualifications": qualifications_message(None)})
        unknown = [q for q in quals if q not in Qualification.values]
        if unknown:
            raise ValidationError({"qualifications": qualifications_message(unknown[0])})

    def qualification_labels(self) -> list[str]:
        """The inspector's qualifications as people read them, in the active language."""
        labels = dict(Qualification.choices)
        return [str(labels.get(q, q)) for q in self.qualifications or []]


def qualifications_message(bad: str | None) -> str:
    """What is wrong with a list of qualification keys, naming the allowed keys."""
    allowed = ", ".join(f"{k} ({label})" for k, label in Qualification.choices)
    if bad:
        return _("“%(key)s” is not a qualification. Use one of: %(allowed)s.") % {
            "key": bad, "allowed": allowed}
    return _("Give the qualifications as a list of distinct keys, from: %(allowed)s.") % {
        "allowed": allowed}


class DivisionStats(models.Model):
    """Counts per division kept up to date by an event subscriber (entity.registered),
    read by the dashboards instead of counting a million rows per page view."""

    division = models.OneToOneField("core.Division", on_delete=models.CASCADE, primary_key=True,
                                    verbose_name=_("division"))
    entities = models.PositiveIntegerField(_("market entities"), default=0)

    class Meta:
        verbose_name = _("division statistics")
        verbose_name_plural = _("division statistics")
