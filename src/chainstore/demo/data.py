"""Static tables of the demo chain: real cities and districts, a category tree and product lines.

Addresses are real streets in real districts; coordinates are the district centres (WGS-84).
Prices are typical shelf prices in CNY.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SitePlace:
    name: str
    city: str
    region: str
    address: str
    latitude: str
    longitude: str


CDC = SitePlace(
    "上海嘉定中央仓", "上海", "上海市", "上海市嘉定区叶城路1288号", "31.352000", "121.246000"
)
RDC = SitePlace(
    "杭州萧山区域仓", "杭州", "浙江省", "杭州市萧山区建设一路66号", "30.226000", "120.283000"
)

# Stores: 上海 and 苏州 are served by the CDC, 杭州 by the RDC.
STORES = [
    SitePlace(
        "鲜果优选 徐汇天钥桥路店",
        "上海",
        "上海市",
        "上海市徐汇区天钥桥路133号",
        "31.188700",
        "121.436600",
    ),
    SitePlace(
        "鲜果优选 静安南京西路店",
        "上海",
        "上海市",
        "上海市静安区南京西路1618号",
        "31.224000",
        "121.452000",
    ),
    SitePlace(
        "鲜果优选 杭州文三路店",
        "杭州",
        "浙江省",
        "杭州市西湖区文三路259号",
        "30.279000",
        "120.134000",
    ),
    SitePlace(
        "鲜果优选 苏州湖西店",
        "苏州",
        "江苏省",
        "苏州市工业园区星海街200号",
        "31.308000",
        "120.670000",
    ),
    SitePlace(
        "鲜果优选 浦东张江店",
        "上海",
        "上海市",
        "上海市浦东新区张江路368号",
        "31.204000",
        "121.590800",
    ),
    SitePlace(
        "鲜果优选 杭州滨江店",
        "杭州",
        "浙江省",
        "杭州市滨江区江南大道3850号",
        "30.209500",
        "120.212000",
    ),
    SitePlace(
        "鲜果优选 苏州观前街店",
        "苏州",
        "江苏省",
        "苏州市姑苏区观前街245号",
        "31.311000",
        "120.628000",
    ),
    SitePlace(
        "鲜果优选 杨浦五角场店",
        "上海",
        "上海市",
        "上海市杨浦区淞沪路77号",
        "31.299000",
        "121.513000",
    ),
    SitePlace(
        "鲜果优选 闵行莘庄店",
        "上海",
        "上海市",
        "上海市闵行区莘松路380号",
        "31.111000",
        "121.385000",
    ),
    SitePlace(
        "鲜果优选 杭州武林店",
        "杭州",
        "浙江省",
        "杭州市拱墅区体育场路229号",
        "30.274000",
        "120.162000",
    ),
    SitePlace(
        "鲜果优选 苏州吴中店",
        "苏州",
        "江苏省",
        "苏州市吴中区东吴北路98号",
        "31.262000",
        "120.630000",
    ),
    SitePlace(
        "鲜果优选 普陀长寿路店",
        "上海",
        "上海市",
        "上海市普陀区长寿路155号",
        "31.243000",
        "121.440000",
    ),
]

# Category tree: (code, name, parent code)
CATEGORIES = [
    ("10", "生鲜", None),
    ("1001", "牛奶", "10"),
    ("1002", "酸奶", "10"),
    ("1003", "面包烘焙", "10"),
    ("1004", "鸡蛋", "10"),
    ("1005", "蔬菜", "10"),
    ("1006", "水果", "10"),
    ("1007", "速冻食品", "10"),
    ("20", "饮料", None),
    ("2001", "饮用水", "20"),
    ("2002", "碳酸饮料", "20"),
    ("2003", "茶饮料", "20"),
    ("2004", "果汁", "20"),
    ("30", "零食", None),
    ("3001", "薯片膨化", "30"),
    ("3002", "饼干糕点", "30"),
    ("3003", "糖果巧克力", "30"),
    ("3004", "坚果炒货", "30"),
    ("40", "粮油调味", None),
    ("4001", "方便速食", "40"),
    ("4002", "米面", "40"),
    ("4003", "食用油", "40"),
    ("4004", "调味品", "40"),
    ("50", "日用品", None),
    ("5001", "纸品湿巾", "50"),
    ("5002", "衣物清洁", "50"),
    ("5003", "洗浴护发", "50"),
    ("5004", "口腔护理", "50"),
]


@dataclass(frozen=True)
class ProductLine:
    """Brands x items x specs of one category; every combination is a plausible SKU."""

    category: str
    brands: tuple[str, ...]
    items: tuple[str, ...]
    specs: tuple[tuple[str, float], ...]  # (spec text, retail price CNY)
    storage: str = "ambient"
    lot_tracked: bool = False
    shelf_life_days: int | None = None
    by_weight: bool = False
    velocity: float = 1.0  # typical units (or kg) sold per store and day
    pack: int = 1  # replenishment case size (units)


LINES = [
    ProductLine(
        "1001",
        ("光明", "新希望", "三元"),
        ("鲜牛奶", "低脂鲜牛奶", "娟姗鲜牛奶"),
        (("950ml", 13.9), ("450ml", 7.9)),
        storage="chilled",
        lot_tracked=True,
        shelf_life_days=7,
        velocity=6.0,
    ),
    ProductLine(
        "1002",
        ("光明", "蒙牛", "君乐宝", "简爱"),
        ("原味风味发酵乳", "低糖酸奶", "草莓果粒酸奶"),
        (("200g", 5.5), ("100g×8", 19.9)),
        storage="chilled",
        lot_tracked=True,
        shelf_life_days=21,
        velocity=3.0,
    ),
    ProductLine(
        "1003",
        ("桃李", "曼可顿", "宾堡"),
        ("醇熟切片面包", "全麦吐司", "奶油餐包", "天然酵母面包"),
        (("400g", 9.8), ("85g", 3.5)),
        lot_tracked=True,
        shelf_life_days=5,
        velocity=4.0,
    ),
    ProductLine(
        "1004",
        ("德青源", "圣迪乐村", "黄天鹅"),
        ("鲜鸡蛋", "可生食鸡蛋", "土鸡蛋"),
        (("10枚", 15.8), ("30枚", 39.9)),
        storage="chilled",
        lot_tracked=True,
        shelf_life_days=30,
        velocity=5.0,
    ),
    ProductLine(
        "1001",
        ("蒙牛", "伊利", "光明"),
        ("纯牛奶", "高钙牛奶", "低脂高钙奶"),
        (("250ml×24", 62.0), ("250ml×12", 33.9)),
        lot_tracked=True,
        shelf_life_days=180,
        velocity=1.5,
        pack=6,
    ),
    ProductLine(
        "1005",
        ("",),
        (
            "上海青",
            "西兰花",
            "番茄",
            "黄瓜",
            "土豆",
            "胡萝卜",
            "大白菜",
            "菠菜",
            "生菜",
            "茄子",
            "青椒",
            "洋葱",
        ),
        (("散装称重", 7.8),),
        storage="chilled",
        lot_tracked=True,
        shelf_life_days=4,
        by_weight=True,
        velocity=4.0,
    ),
    ProductLine(
        "1006",
        ("",),
        ("红富士苹果", "香蕉", "赣南脐橙", "阳光玫瑰葡萄", "砀山酥梨", "海南西瓜", "猕猴桃"),
        (("散装称重", 12.8),),
        storage="chilled",
        lot_tracked=True,
        shelf_life_days=10,
        by_weight=True,
        velocity=5.0,
    ),
    ProductLine(
        "1007",
        ("三全", "思念", "湾仔码头"),
        ("猪肉白菜水饺", "荠菜猪肉馄饨", "黑芝麻汤圆"),
        (("1kg", 22.9), ("500g", 12.9)),
        storage="frozen",
        lot_tracked=True,
        shelf_life_days=270,
        velocity=1.2,
        pack=6,
    ),
    ProductLine(
        "2001",
        ("农夫山泉", "怡宝", "百岁山", "娃哈哈"),
        ("饮用天然水", "纯净水"),
        (("550ml", 2.0), ("1.5L", 4.0), ("550ml×24", 36.0)),
        shelf_life_days=365,
        velocity=8.0,
        pack=24,
    ),
    ProductLine(
        "2002",
        ("可口可乐", "百事可乐", "元气森林"),
        ("可乐", "无糖可乐", "柠檬味汽水", "白桃气泡水"),
        (("330ml", 3.5), ("500ml", 3.8), ("2L", 8.9)),
        shelf_life_days=365,
        velocity=4.0,
        pack=24,
    ),
    ProductLine(
        "2003",
        ("康师傅", "统一", "农夫山泉"),
        ("冰红茶", "绿茶", "茉莉清茶", "乌龙茶"),
        (("500ml", 3.5), ("1L", 5.5)),
        shelf_life_days=360,
        velocity=3.0,
        pack=15,
    ),
    ProductLine(
        "2004",
        ("汇源", "美汁源", "农夫果园"),
        ("100%橙汁", "100%苹果汁", "果粒橙", "混合果蔬汁"),
        (("1L", 12.9), ("420ml", 4.5)),
        shelf_life_days=300,
        velocity=1.5,
        pack=12,
    ),
    ProductLine(
        "3001",
        ("乐事", "可比克", "品客"),
        ("原味薯片", "黄瓜味薯片", "烧烤味薯片", "番茄味薯片"),
        (("70g", 6.5), ("135g", 10.9)),
        shelf_life_days=270,
        velocity=2.0,
        pack=20,
    ),
    ProductLine(
        "3002",
        ("奥利奥", "好丽友", "达利园", "旺旺"),
        ("夹心饼干", "苏打饼干", "巧克力派", "蛋黄派"),
        (("97g", 5.9), ("388g", 16.9)),
        shelf_life_days=300,
        velocity=1.5,
        pack=12,
    ),
    ProductLine(
        "3003",
        ("旺旺", "大白兔", "德芙", "徐福记"),
        ("雪饼", "奶糖", "丝滑牛奶巧克力", "酥心糖"),
        (("84g", 6.9), ("227g", 19.9)),
        shelf_life_days=365,
        velocity=1.0,
        pack=12,
    ),
    ProductLine(
        "3004",
        ("三只松鼠", "良品铺子", "洽洽"),
        ("每日坚果", "焦糖瓜子", "碧根果", "夏威夷果"),
        (("175g", 29.9), ("500g", 59.9)),
        shelf_life_days=240,
        velocity=0.8,
        pack=10,
    ),
    ProductLine(
        "4001",
        ("康师傅", "统一", "今麦郎", "白象"),
        ("红烧牛肉面", "老坛酸菜牛肉面", "香辣牛肉面"),
        (("5连包", 14.5), ("桶装", 5.5)),
        shelf_life_days=180,
        velocity=3.0,
        pack=12,
    ),
    ProductLine(
        "4002",
        ("福临门", "金龙鱼", "十月稻田"),
        ("东北大米", "长粒香米", "高筋小麦粉"),
        (("5kg", 39.9), ("2.5kg", 21.9)),
        shelf_life_days=365,
        velocity=0.8,
        pack=4,
    ),
    ProductLine(
        "4003",
        ("金龙鱼", "鲁花", "福临门"),
        ("花生油", "食用调和油", "玉米油"),
        (("5L", 89.9), ("1.8L", 39.9)),
        shelf_life_days=540,
        velocity=0.6,
        pack=4,
    ),
    ProductLine(
        "4004",
        ("海天", "李锦记", "太太乐"),
        ("生抽", "老抽", "蚝油", "鸡精"),
        (("500ml", 8.9), ("1.9L", 22.9)),
        shelf_life_days=540,
        velocity=1.0,
        pack=12,
    ),
    ProductLine(
        "5001",
        ("维达", "清风", "心相印", "洁柔"),
        ("抽纸", "卷纸", "湿巾"),
        (("3层100抽×6包", 19.9), ("10卷装", 29.9)),
        velocity=1.5,
        pack=6,
    ),
    ProductLine(
        "5002",
        ("蓝月亮", "立白", "奥妙", "超能"),
        ("洗衣液", "洗洁精", "洗衣凝珠"),
        (("3kg", 49.9), ("1kg", 19.9)),
        velocity=0.8,
        pack=6,
    ),
    ProductLine(
        "5003",
        ("舒肤佳", "六神", "海飞丝", "潘婷"),
        ("沐浴露", "洗发水", "护发素"),
        (("720ml", 39.9), ("400ml", 29.9)),
        velocity=0.5,
        pack=6,
    ),
    ProductLine(
        "5004",
        ("高露洁", "云南白药", "黑人", "佳洁士"),
        ("美白牙膏", "清新口气牙膏", "软毛牙刷"),
        (("180g", 15.9), ("2支装", 12.9)),
        velocity=0.7,
        pack=12,
    ),
]

# Variants used only when a very large catalog exhausts the plain combinations.
VARIANTS = (("家庭装", 1.8), ("促销装", 0.95), ("新包装", 1.0), ("量贩装", 2.6), ("礼盒装", 3.2))

# Brand -> GS1 China manufacturer number (prefix 690-695 + 4 digits), stable per brand.
BRAND_PREFIXES = ("690", "691", "692", "693", "694", "695")
