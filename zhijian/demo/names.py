"""Synthetic Chinese names for the demo province: people, firms, shops, roads.

Pure functions of a `random.Random`; no Django. Names are composed at random from
common surnames, given-name characters and auspicious "trade name" (字号) characters, in
the pattern the enterprise-name rules prescribe (企业名称登记管理规定: place + trade
name + industry + form, e.g. 宝鸡 + 恒源 + 线缆 + 有限公司). They describe no real person
or firm; a coincidence with a real one is unintended (docs/demo.md).
"""

from __future__ import annotations

import random

# Common surnames, most frequent first (weights fall off with rank).
SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏"
    "卢蒋蔡贾丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯"
    "邵孟龙万段雷钱汤尹黎易常武乔贺赖龚文"
)
_SURNAME_WEIGHTS = [1.0 / (1 + i / 8) for i in range(len(SURNAMES))]
_SURNAME_CUM = [sum(_SURNAME_WEIGHTS[: i + 1]) for i in range(len(SURNAMES))]

GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红建文辉力斌宇浩凯健俊帆帅旭宁龙"
    "林欣晨瑞博鹏飞鑫波峰亮婷雪琳晶颖倩佳悦思雨梦雅晓嘉子一泽轩航宏志海成国庆昊然哲彬荣楠东"
)

# Trade-name (字号) characters.
TRADE = (
    "汇川恒瑞达鑫源泰安盛华兴隆德信诚宏远通和永丰嘉宝顺昌益晟弘祥锦润博凯峰腾越聚合力康福"
    "新景星海天正明开乾坤元亨利贞秦岭渭澄裕沣灏翔骏铭泓睿"
)

ROAD_SUFFIX = ("路", "路", "街", "大道", "巷")

# Industry words (行业表述) for enterprise names, by product category.
INDUSTRY = {
    "electrical.cable.power": ("电缆", "线缆", "电线电缆"),
    "electrical.cable.building_wire": ("电线", "线缆", "电线电缆"),
    "electrical.low_voltage": ("电气", "开关", "电器"),
    "electrical.lighting": ("照明电器", "灯饰", "光电"),
    "appliance.kitchen": ("电器", "厨具电器"),
    "appliance.refrigerator": ("制冷设备", "电器"),
    "appliance.washing": ("电器", "家电"),
    "appliance.air_conditioner": ("空调设备", "制冷工程"),
    "ccc.it": ("电子科技", "信息技术", "计算机"),
    "ccc.av": ("电子", "音响设备"),
    "ccc.electric_bicycle": ("电动车", "车业"),
    "ebike_battery": ("电池", "新能源科技", "锂电"),
    "building.rebar": ("钢铁", "钢材", "钢业"),
    "building.cement": ("水泥", "建材"),
    "building.waterproof": ("防水材料", "防水科技"),
    "building.ceramic_tile": ("陶瓷", "建材"),
    "building.concrete": ("混凝土", "商品混凝土", "建材"),
    "special_equipment.boiler": ("锅炉", "热能设备"),
    "special_equipment.pressure_vessel": ("压力容器", "化工设备"),
    "special_equipment.elevator": ("电梯", "电梯工程"),
    "special_equipment.lifting": ("起重机械", "起重设备"),
    "special_equipment.amusement": ("游乐设备", "游乐园"),
    "food.dairy": ("乳业", "乳制品"),
    "food.infant_formula": ("乳业", "营养食品"),
    "food.meat": ("肉类食品", "食品"),
    "food.edible_oil": ("粮油", "油脂"),
    "food.sales": ("商贸", "超市", "食品贸易", "便利店"),
    "food.catering": ("餐饮管理", "餐饮"),
    "drug.chemical": ("制药", "药业"),
    "drug.tcm": ("中药饮片", "药业"),
    "drug.retail": ("大药房", "医药连锁"),
    "cosmetic.general": ("化妆品", "日化", "生物科技"),
    "cosmetic.special": ("生物科技", "化妆品"),
    "medical_device.mask": ("医疗用品", "医疗器械"),
    "medical_device.syringe": ("医疗器械", "医用材料"),
    "children.toy": ("玩具", "文化用品"),
    "children.stroller": ("童车", "儿童用品"),
    "children.car_seat": ("儿童用品", "汽车用品"),
    "children.garment": ("服饰", "童装"),
    "fertiliser.compound": ("化肥", "复合肥"),
    "fertiliser.organic": ("生物肥业", "有机肥"),
    "auto_parts.tyre": ("轮胎", "橡胶制品"),
    "auto_parts.safety_glass": ("汽车玻璃", "玻璃"),
    "auto_parts.seat_belt": ("汽车安全部件", "汽车配件"),
    "fuel.gasoline": ("石油化工", "能源"),
    "fuel.diesel": ("石油化工", "能源"),
    "chemical.hazardous": ("化工", "精细化工"),
    "chemical.packaging": ("包装容器", "包装"),
}

# Shop words for individual businesses (个体工商户).
SHOP = {
    "food.sales": ("便利店", "副食店", "果蔬店", "粮油店", "超市"),
    "food.catering": ("面馆", "饭店", "小吃店", "凉皮店", "肉夹馍店", "火锅店"),
    "drug.retail": ("药店", "大药房"),
    "cosmetic.general": ("化妆品店",),
    "children.garment": ("童装店",),
    "children.toy": ("玩具店",),
    "ccc.electric_bicycle": ("电动车行",),
    "ebike_battery": ("电池店", "换电站"),
    "appliance.kitchen": ("家电门市部", "家电维修部"),
    "building.ceramic_tile": ("瓷砖店", "建材门市部"),
    "auto_parts.tyre": ("轮胎店", "汽配店"),
}

# Products of farmers' cooperatives (农民专业合作社).
COOP = {
    "food.sales": ("苹果种植", "猕猴桃种植", "蔬菜种植", "茶叶", "花椒种植", "核桃种植", "果业"),
    "food.edible_oil": ("油菜种植", "菜籽油加工"),
    "fertiliser.organic": ("有机肥", "种养殖"),
}


def person(rng: random.Random) -> str:
    """A made-up personal name: surname plus one or two given-name characters."""
    surname = rng.choices(SURNAMES, cum_weights=_SURNAME_CUM)[0]
    if rng.random() < 0.3:
        return surname + rng.choice(GIVEN)
    return surname + rng.choice(GIVEN) + rng.choice(GIVEN)


def trade_name(rng: random.Random) -> str:
    first = rng.choice(TRADE)
    second = rng.choice(TRADE)
    while second == first:
        second = rng.choice(TRADE)
    return first + second


def short_place(name: str) -> str:
    """The place word used in a firm name: 宝鸡市 → 宝鸡, 洛川县 → 洛川, but 眉县 stays."""
    if len(name) > 2 and name[-1] in "市县区":
        return name[:-1]
    return name


def enterprise(rng: random.Random, place: str, category: str) -> str:
    return f"{place}{trade_name(rng)}{rng.choice(INDUSTRY[category])}有限公司"


def shop(rng: random.Random, county: str, category: str) -> str:
    if rng.random() < 0.4:
        trade = rng.choices(SURNAMES, cum_weights=_SURNAME_CUM)[0] + "记"
    else:
        trade = trade_name(rng)
    return f"{county}{trade}{rng.choice(SHOP[category])}"


def cooperative(rng: random.Random, county: str, category: str) -> str:
    return f"{county}{trade_name(rng)}{rng.choice(COOP[category])}专业合作社"


def road(rng: random.Random) -> str:
    return trade_name(rng) + rng.choice(ROAD_SUFFIX)
