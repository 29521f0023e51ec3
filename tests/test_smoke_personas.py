from zhijian.registry import access


def test_xian_officer_sees_xian_not_baoji(world, xian_officer, baoji_officer):
    xian_seen = set(access.entities_visible_to(xian_officer).values_list("name", flat=True))
    baoji_seen = set(access.entities_visible_to(baoji_officer).values_list("name", flat=True))
    assert xian_seen == {"西安测试电缆有限公司"}
    assert baoji_seen == {"宝鸡测试钢铁有限公司"}


def test_sector_department_sees_only_its_sectors(world, xian_housing_officer):
    # The Xi'an housing bureau covers building materials; the Xi'an entity makes cable.
    assert list(access.entities_visible_to(xian_housing_officer)) == []
