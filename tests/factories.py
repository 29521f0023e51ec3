"""factory_boy factories: synthetic, deterministic test data (no fixtures files)."""

import random

import factory

from zhijian.accounts.models import Role, User
from zhijian.core.identifiers import synthetic_uscc
from zhijian.core.models import Division
from zhijian.registry.choices import DepartmentKind, Level
from zhijian.registry.models import (
    AccreditationScope,
    Department,
    Inspector,
    Lab,
    MarketEntity,
    Product,
    ProductCategory,
    Standard,
    UserUnit,
)

_rng = random.Random(20171201)


def uscc_for(division: str) -> str:
    return synthetic_uscc(_rng, division)


def division(code: str) -> Division:
    return Division.objects.get(pk=code)


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ProductCategory
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"cat{n}")
    name = factory.Sequence(lambda n: f"类别{n}")
    name_en = factory.Sequence(lambda n: f"Category {n}")


class StandardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Standard
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"GB/T {10000 + n}-2020")
    title = factory.Sequence(lambda n: f"标准{n}")


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department
        django_get_or_create = ("division", "kind")

    code = factory.LazyAttribute(lambda o: f"{o.division.code}-{o.kind}")
    name = factory.LazyAttribute(lambda o: f"{o.division.name}{o.kind}")
    kind = DepartmentKind.MARKET
    level = factory.LazyAttribute(
        lambda o: Level.PROVINCE if o.division.code.endswith("0000")
        else Level.CITY if o.division.code.endswith("00") else Level.COUNTY
    )
    division = factory.LazyFunction(lambda: division("610100"))
    all_sectors = True


class EntityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MarketEntity

    division = factory.LazyFunction(lambda: division("610113"))
    uscc = factory.LazyAttribute(lambda o: uscc_for(o.division.code))
    name = factory.Sequence(lambda n: f"测试企业{n}有限公司")
    legal_representative = "王测试"


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    entity = factory.SubFactory(EntityFactory)
    name = factory.Sequence(lambda n: f"产品{n}")
    category = factory.SubFactory(CategoryFactory)


class LabFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lab

    division = factory.LazyFunction(lambda: division("610113"))
    uscc = factory.LazyAttribute(lambda o: uscc_for(o.division.code))
    name = factory.Sequence(lambda n: f"测试检测中心{n}")
    cma_number = factory.Sequence(lambda n: f"{230000000000 + n}")


class ScopeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AccreditationScope

    lab = factory.SubFactory(LabFactory)
    standard = factory.SubFactory(StandardFactory)
    parameter = ""
    valid_from = factory.Faker("date_between", start_date="-3y", end_date="-1y")


class UserUnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UserUnit

    division = factory.LazyFunction(lambda: division("610100"))
    uscc = factory.LazyAttribute(lambda o: uscc_for(o.division.code))
    name = factory.Sequence(lambda n: f"测试用户单位{n}")
    sector = "transport"


class InspectorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Inspector

    name = factory.Sequence(lambda n: f"检查员{n}")
    badge_number = factory.Sequence(lambda n: f"61{n:08d}")
    department = factory.SubFactory(DepartmentFactory)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    role = Role.REGULATOR
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def saved(obj, create, extracted, **kwargs):
        if create:
            obj.save()
