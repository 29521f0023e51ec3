from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    """Administrative level of a department or of a duty in the responsibility matrix."""

    PROVINCE = "province", _("Province")
    CITY = "city", _("City")
    COUNTY = "county", _("County")


class DepartmentKind(models.TextChoices):
    MARKET = "market", _("Market supervision")
    HOUSING = "housing", _("Housing and construction")
    TRANSPORT = "transport", _("Transport")
    DRUG = "drug", _("Drug administration")
    ECOLOGY = "ecology", _("Ecology and environment")
    PUBLIC_SECURITY = "public_security", _("Public security")
    CUSTOMS = "customs", _("Customs (import/export)")
    EDUCATION = "education", _("Education")
    HEALTH = "health", _("Health")


class DutyRole(models.TextChoices):
    LEAD = "lead", _("Lead")
    ASSIST = "assist", _("Assist")


class EntityType(models.TextChoices):
    ENTERPRISE = "enterprise", _("Enterprise")
    INDIVIDUAL = "individual", _("Individual business")
    COOPERATIVE = "cooperative", _("Farmers' cooperative")
    OTHER = "other", _("Other organisation")


class EntityStatus(models.TextChoices):
    ACTIVE = "active", _("In business")
    SUSPENDED = "suspended", _("Suspended")
    REVOKED = "revoked", _("Licence revoked")
    CANCELLED = "cancelled", _("Deregistered")


class RiskClass(models.TextChoices):
    A = "A", _("A (low risk / good credit)")
    B = "B", _("B")
    C = "C", _("C")
    D = "D", _("D (high risk / poor credit)")


class LabStatus(models.TextChoices):
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    WITHDRAWN = "withdrawn", _("Accreditation withdrawn")


class UserUnitSector(models.TextChoices):
    POWER = "power", _("Power")
    TRANSPORT = "transport", _("Transport")
    CONSTRUCTION = "construction", _("Construction")
    BULK = "bulk", _("Bulk goods")
    OTHER = "other", _("Other")


class Qualification(models.TextChoices):
    """Qualifications an inspector may hold (执法检验资格). A product category names the
    one its inspection teams need (ProductCategory.qualification, e.g. special equipment
    under 特种设备安全法 第十四条 and TSG Z8001); the random draw picks only inspectors
    who hold it. Stable keys; the labels are what people read."""

    SPECIAL_EQUIPMENT = "special_equipment", _("Special equipment inspection")


# Departments that supervise no product sector: public security acts on criminal
# referrals (行刑衔接) and joint punishment, not on product categories, so it alone may
# have neither "every sector" nor a list of sectors.
SECTORLESS_KINDS = frozenset({DepartmentKind.PUBLIC_SECURITY})
