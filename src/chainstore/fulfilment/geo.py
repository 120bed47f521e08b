"""Distances for sourcing: great-circle kilometres, and city centroids for addresses that
arrive without coordinates (most marketplace orders give a province / city / district and a
street, not lat/lon).

The centroid table is deliberately small and built in (about 70 of the largest cities, their
municipal government's position to ~0.01°): sourcing compares distances between a handful of
sites hundreds of kilometres apart, so a city centre is accurate enough, and no geocoding
service is needed. Unknown cities give None; the caller then ranks sites without distance.
"""

from __future__ import annotations

import math
import re

EARTH_RADIUS_KM = 6371.0088  # mean radius (IUGG)


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points in degrees (haversine; error < 0.5 %)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


# The built-in table: name, pinyin, latitude, longitude (benchmarks place sites with it too).
CITIES: tuple[tuple[str, str, float, float], ...] = (
    ("北京", "Beijing", 39.9042, 116.4074),
    ("上海", "Shanghai", 31.2304, 121.4737),
    ("天津", "Tianjin", 39.3434, 117.3616),
    ("重庆", "Chongqing", 29.5630, 106.5516),
    ("广州", "Guangzhou", 23.1291, 113.2644),
    ("深圳", "Shenzhen", 22.5431, 114.0579),
    ("杭州", "Hangzhou", 30.2741, 120.1551),
    ("南京", "Nanjing", 32.0603, 118.7969),
    ("苏州", "Suzhou", 31.2990, 120.5853),
    ("成都", "Chengdu", 30.5728, 104.0668),
    ("武汉", "Wuhan", 30.5928, 114.3055),
    ("西安", "Xi'an", 34.3416, 108.9398),
    ("长沙", "Changsha", 28.2282, 112.9388),
    ("郑州", "Zhengzhou", 34.7466, 113.6254),
    ("青岛", "Qingdao", 36.0671, 120.3826),
    ("厦门", "Xiamen", 24.4798, 118.0894),
    ("宁波", "Ningbo", 29.8683, 121.5440),
    ("无锡", "Wuxi", 31.4912, 120.3119),
    ("合肥", "Hefei", 31.8206, 117.2272),
    ("济南", "Jinan", 36.6512, 117.1201),
    ("福州", "Fuzhou", 26.0745, 119.2965),
    ("沈阳", "Shenyang", 41.8057, 123.4315),
    ("大连", "Dalian", 38.9140, 121.6147),
    ("哈尔滨", "Harbin", 45.8038, 126.5349),
    ("长春", "Changchun", 43.8171, 125.3235),
    ("石家庄", "Shijiazhuang", 38.0428, 114.5149),
    ("太原", "Taiyuan", 37.8706, 112.5489),
    ("昆明", "Kunming", 24.8801, 102.8329),
    ("贵阳", "Guiyang", 26.6470, 106.6302),
    ("南宁", "Nanning", 22.8170, 108.3665),
    ("南昌", "Nanchang", 28.6820, 115.8579),
    ("兰州", "Lanzhou", 36.0611, 103.8343),
    ("乌鲁木齐", "Urumqi", 43.8256, 87.6168),
    ("呼和浩特", "Hohhot", 40.8424, 111.7490),
    ("银川", "Yinchuan", 38.4872, 106.2309),
    ("西宁", "Xining", 36.6171, 101.7782),
    ("拉萨", "Lhasa", 29.6520, 91.1721),
    ("海口", "Haikou", 20.0440, 110.1999),
    ("三亚", "Sanya", 18.2528, 109.5119),
    ("东莞", "Dongguan", 23.0205, 113.7518),
    ("佛山", "Foshan", 23.0215, 113.1214),
    ("珠海", "Zhuhai", 22.2710, 113.5767),
    ("中山", "Zhongshan", 22.5176, 113.3926),
    ("惠州", "Huizhou", 23.1115, 114.4152),
    ("汕头", "Shantou", 23.3535, 116.6822),
    ("温州", "Wenzhou", 27.9943, 120.6994),
    ("绍兴", "Shaoxing", 30.0023, 120.5810),
    ("嘉兴", "Jiaxing", 30.7469, 120.7555),
    ("金华", "Jinhua", 29.0790, 119.6474),
    ("台州", "Taizhou", 28.6561, 121.4208),
    ("常州", "Changzhou", 31.8107, 119.9741),
    ("南通", "Nantong", 31.9802, 120.8943),
    ("徐州", "Xuzhou", 34.2058, 117.2841),
    ("扬州", "Yangzhou", 32.3942, 119.4129),
    ("烟台", "Yantai", 37.4638, 121.4479),
    ("潍坊", "Weifang", 36.7069, 119.1618),
    ("泉州", "Quanzhou", 24.8741, 118.6757),
    ("洛阳", "Luoyang", 34.6197, 112.4540),
    ("保定", "Baoding", 38.8740, 115.4646),
    ("唐山", "Tangshan", 39.6305, 118.1802),
    ("芜湖", "Wuhu", 31.3525, 118.4331),
    ("襄阳", "Xiangyang", 32.0090, 112.1224),
    ("宜昌", "Yichang", 30.6918, 111.2865),
    ("桂林", "Guilin", 25.2736, 110.2900),
    ("绵阳", "Mianyang", 31.4675, 104.6791),
    ("香港", "Hong Kong", 22.3193, 114.1694),
    ("澳门", "Macau", 22.1987, 113.5439),
)

_BY_NAME: dict[str, tuple[float, float]] = {}
for _zh, _en, _lat, _lon in CITIES:
    _BY_NAME[_zh] = (_lat, _lon)
    _BY_NAME[re.sub(r"[\s'’-]", "", _en).lower()] = (_lat, _lon)
_BY_NAME["macao"] = _BY_NAME["macau"]
_BY_NAME["peking"] = _BY_NAME["beijing"]
_CHINESE_NAMES = sorted((zh for zh, *_ in CITIES), key=len, reverse=True)


def _normalise(city: str) -> str:
    text = re.sub(r"[\s'’-]", "", city).lower()
    for suffix in ("市", "city", "shi"):
        if text.endswith(suffix) and len(text) > len(suffix):
            text = text[: -len(suffix)]
            break
    return text


def city_centroid(city: str) -> tuple[float, float] | None:
    """(lat, lon) of a city given as 上海 / 上海市 / Shanghai / "Shanghai City", or with its
    province in front (广东省深圳市); None when the city is not in the table."""
    key = _normalise(city or "")
    if not key:
        return None
    if key in _BY_NAME:
        return _BY_NAME[key]
    # "广东省深圳" (province + city): the longest known name it ends with.
    for name in _CHINESE_NAMES:
        if key.endswith(name):
            return _BY_NAME[name]
    return None
