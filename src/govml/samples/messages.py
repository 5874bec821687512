"""Sample resident messages with planted surges, hot issues and personal data (deterministic).

:func:`generate` writes three files:

- ``messages.csv`` — the canonical messages table: ``id, created_at, district, community, user_id,
  text, category, channel, likes, status, closed_at``; 2023-01-01 → 2024-12-31, 3 districts
  (青山区 and 临江区 urban, 云溪县 rural) with 33 communities of different sizes at ``scale=1``
  (~8,500 messages), 11 demand categories with their own seasons (heating in winter, waterlogging
  in summer, noise on summer nights…), a mild upward trend, and fictional personal data (phones,
  landlines, ID numbers with valid check digits, plates, door numbers, e-mail) in ~10 % of texts.
- ``truth_surges.csv`` — ``district, community, category, term, start, end, multiplier``: planted
  episodes where one category, worded with one term (飞线充电, 电梯停运…), rises 3–6× in one
  community for 2–6 consecutive weeks (Monday ``start`` to Sunday ``end``). In each window the
  community-category count is at least ``multiplier`` × its mean weekly count outside the window
  × the window's weeks (the generator tops a window up until it is).
- ``truth_hot_issues.csv`` — ``issue_key, district, community, place, category, start, end,
  message_ids, problem, n_messages``: concentrated problems (one estate or site, one problem,
  8–40 messages by different users over a few weeks, with likes); ``message_ids`` joined by ``;``.

``scale=N`` multiplies districts, communities, rows, surges and hot issues by ``N`` (scale 25 ≈
210,000 messages). Same ``seed`` and ``scale`` → byte-identical files. :func:`build` returns the
same tables in memory, plus the planted personal data (for tests of :mod:`govml.privacy`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd

from govml.errors import ConfigError

START = date(2023, 1, 1)
END = date(2024, 12, 31)
N_DAYS = (END - START).days + 1
#: Messages per community per day at scale 1 before seasons, trend and community size.
_BASE_RATE = 0.315

CHANNELS = ("12345热线", "网上留言", "书记信箱", "入户走访")
STATUSES = ("已办结", "处理中", "未受理")

# --- places -----------------------------------------------------------------------------------
DISTRICTS: dict[str, tuple[str, list[str]]] = {
    "青山区": (
        "urban",
        [
            "青山社区",
            "翠柳社区",
            "金桥社区",
            "明德社区",
            "和平社区",
            "东湖社区",
            "枫林社区",
            "书院社区",
            "幸福里社区",
            "文昌社区",
            "朝阳社区",
        ],
    ),
    "临江区": (
        "urban",
        [
            "滨江社区",
            "望江社区",
            "新港社区",
            "临江社区",
            "春晖社区",
            "锦绣社区",
            "南门社区",
            "长乐社区",
            "柳岸社区",
            "银杏社区",
            "月湖社区",
        ],
    ),
    "云溪县": (
        "rural",
        [
            "云溪镇社区",
            "溪口村",
            "白石村",
            "桃源村",
            "上坪村",
            "石桥村",
            "柳塘村",
            "龙泉村",
            "杨柳村",
            "清水村",
            "高桥村",
        ],
    ),
}
_NAME_A = "金银玉翠青红白黄绿紫东西南北中新长永安福康宁和平兴盛华丰泰祥瑞德仁义智信嘉润恒鸿"
_NAME_B = "山水林园湖桥溪河港湾岭坡田庄堂门坊台岗塘洲峰泉亭阁"
_ESTATE_A = [
    "阳光",
    "金色",
    "锦华",
    "御景",
    "金桂",
    "翠湖",
    "南苑",
    "水岸",
    "城市",
    "香樟",
    "紫薇",
    "丽景",
    "盛世",
    "怡和",
    "书香",
    "枫丹",
    "康乐",
    "和谐",
    "江畔",
    "桂花",
    "金港",
    "时代",
    "龙湖",
    "东方",
    "富康",
    "天韵",
    "景和",
    "明珠",
    "汇景",
    "碧水",
    "润泽",
    "新城",
    "宏发",
    "世纪",
    "凤凰",
    "长江",
    "银河",
    "蓝湾",
    "绿地",
    "华府",
    "雅园",
    "泰和",
    "君悦",
    "锦江",
    "春江",
    "学府",
    "中央",
    "嘉禾",
]
_ESTATE_B = ["花园", "家园", "华庭", "苑", "小区", "新村", "名都", "公馆", "雅居", "佳苑", "雅苑", "名城"]
_OLD_ESTATES = [
    "纺织厂宿舍",
    "电力小区",
    "铁路新村",
    "教师公寓",
    "机关宿舍",
    "粮食局宿舍",
    "机械厂家属区",
    "供销社宿舍",
    "自来水公司宿舍",
    "人民医院宿舍",
    "二中教师楼",
    "邮电小区",
]
_ROAD_A = [
    "建设",
    "人民",
    "解放",
    "中山",
    "文化",
    "学府",
    "新民",
    "东风",
    "工业",
    "胜利",
    "五一",
    "光明",
    "育才",
    "长青",
    "迎宾",
    "朝晖",
    "团结",
    "友谊",
    "金星",
    "银杉",
    "车站",
    "劳动",
    "芙蓉",
    "桐梓",
    "曙光",
    "红旗",
    "府前",
    "书院",
    "湘江",
    "白云",
    "青年",
    "韶山",
    "东塘",
    "西湖",
    "北辰",
    "南湖",
]
_ROAD_B = ["路", "街", "大道", "北路", "南路", "东路", "西路", "巷"]


@dataclass
class Community:
    district: str
    name: str
    area: str  # urban | rural
    weight: float
    estates: list[str] = field(default_factory=list)
    old_estates: list[str] = field(default_factory=list)
    roads: list[str] = field(default_factory=list)


def _district_names(scale: int, rng: random.Random) -> list[tuple[str, str]]:
    out = [(d, a) for d, (a, _) in DISTRICTS.items()]
    used = {d[:-1] for d, _ in out} | {"青山", "临江", "云溪"}
    while len(out) < 3 * scale:
        stem = rng.choice(_NAME_A) + rng.choice(_NAME_B)
        if stem in used:
            continue
        used.add(stem)
        rural = len(out) % 3 == 2
        out.append((stem + ("县" if rural else "区"), "rural" if rural else "urban"))
    return out


def _communities(scale: int, rng: random.Random) -> list[Community]:
    names_used: set[str] = set()
    out: list[Community] = []
    for district, area in _district_names(scale, rng):
        given = DISTRICTS[district][1] if district in DISTRICTS else []
        names = list(given)
        while len(names) < 11:
            stem = rng.choice(_NAME_A) + rng.choice(_NAME_B)
            name = stem + ("村" if area == "rural" and rng.random() < 0.85 else "社区")
            if stem in {n[:2] for n in names_used} or name in names_used or name in names:
                continue
            names.append(name)
        for name in names:
            names_used.add(name)
            weight = float(np.exp(rng.gauss(0.0, 0.55))) * (1.0 if area == "urban" else 0.6)
            out.append(Community(district, name, area, weight))
    estates_used: set[str] = set()
    roads_used: set[str] = set()

    def stem(tries: int, curated: list[str]) -> str:
        # the curated stems first; generated two-character stems once they run out (large scales)
        return rng.choice(curated) if tries < 12 else rng.choice(_NAME_A) + rng.choice(_NAME_B)

    for c in out:
        n_est = 2 if c.area == "rural" else rng.choice((2, 3, 3, 4))
        tries = 0
        while len(c.estates) < n_est:
            tries += 1
            if c.area == "rural":
                e = c.name.removesuffix("村").removesuffix("社区") + rng.choice(("安置小区", "新村", "小区"))
                e = e if e not in estates_used else stem(tries, _ESTATE_A) + "安置小区"
            else:
                e = stem(tries, _ESTATE_A) + rng.choice(_ESTATE_B)
            if e not in estates_used:
                estates_used.add(e)
                c.estates.append(e)
        if c.area == "urban":
            pool = [e for e in _OLD_ESTATES if e not in estates_used]
            old = rng.choice(pool) if pool else rng.choice(_ROAD_A) + rng.choice(("厂宿舍", "局宿舍"))
            if old not in estates_used:
                estates_used.add(old)
                c.old_estates.append(old)
        tries = 0
        while len(c.roads) < 2:
            tries += 1
            r = stem(tries, _ROAD_A) + rng.choice(_ROAD_B)
            if r not in roads_used:
                roads_used.add(r)
                c.roads.append(r)
    return out


# --- categories: shares, seasons, hours -------------------------------------------------------
CATEGORIES = (
    "停车管理",
    "加装电梯与适老化",
    "物业服务",
    "噪声扰民",
    "环境卫生",
    "供暖供水",
    "排水与积水",
    "消防安全",
    "教育托育",
    "医疗养老",
    "市政设施",
)
_SHARE = {
    "urban": (0.14, 0.08, 0.14, 0.11, 0.10, 0.09, 0.06, 0.07, 0.07, 0.07, 0.07),
    "rural": (0.04, 0.02, 0.04, 0.06, 0.17, 0.12, 0.11, 0.06, 0.10, 0.14, 0.14),
}
_SEASON = {  # month 1..12 multipliers
    "供暖供水": (2.6, 2.1, 1.3, 0.5, 0.45, 0.5, 0.55, 0.55, 0.5, 0.6, 2.0, 2.7),
    "排水与积水": (0.3, 0.3, 0.5, 0.8, 1.4, 2.9, 3.4, 2.8, 1.2, 0.5, 0.3, 0.3),
    "噪声扰民": (0.7, 0.75, 0.85, 0.95, 1.1, 1.4, 1.6, 1.55, 1.2, 0.95, 0.8, 0.7),
    "环境卫生": (0.85, 0.9, 0.9, 1.0, 1.05, 1.2, 1.3, 1.25, 1.05, 0.95, 0.85, 0.85),
    "消防安全": (1.3, 1.35, 1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.9, 1.0, 1.1, 1.3),
    "教育托育": (0.8, 1.1, 1.0, 0.9, 1.2, 1.6, 1.8, 1.8, 1.3, 0.7, 0.6, 0.6),
    "医疗养老": (1.3, 1.2, 1.0, 0.95, 0.9, 0.9, 0.9, 0.9, 0.95, 1.0, 1.1, 1.3),
    "停车管理": (1.2, 1.25, 1.0, 1.0, 0.95, 0.95, 0.9, 0.95, 1.0, 1.05, 1.0, 1.05),
}
_TREND = {"加装电梯与适老化": 0.45, "医疗养老": 0.2}  # extra growth over the two years
_HOURS = np.array([1, 0.6, 0.3, 0.2, 0.2, 0.4, 1.2, 3, 6, 8, 8, 7, 5, 5, 6, 7, 7, 6, 5, 6, 6, 5, 3.5, 2])
_NIGHT_HOURS = np.array([4, 3, 2, 1, 0.4, 0.4, 1, 3, 4, 4, 4, 4, 3, 3, 3, 3, 3, 3, 4, 6, 8, 9, 9, 7])

# --- text ---------------------------------------------------------------------------------------
_OPEN = [
    "",
    "",
    "",
    "您好，",
    "你好！",
    "领导您好，",
    "尊敬的领导：",
    "请问，",
    "反映一个问题：",
    "我是{estate}的业主，",
    "我是{community}的居民，",
    "本人住在{estate}，",
    "您好，我想反映一下，",
    "各位领导好，",
    "书记您好！",
]
_CLOSE = [
    "",
    "",
    "",
    "希望领导重视。",
    "麻烦尽快处理，谢谢！",
    "请相关部门尽快解决。",
    "盼复！",
    "望尽快答复。",
    "谢谢！",
    "恳请解决。",
    "已经反映过多次了，一直没解决。",
    "希望给个说法。",
    "请尽快派人来看看。",
    "谢谢领导！",
    "希望早日解决。",
    "麻烦了。",
]
_SLOTS: dict[str, list[str]] = {
    "park": ["车位", "停车位", "车位", "泊位"],
    "wy": ["物业", "物业公司", "物业管理处", "物业"],
    "dur": ["三天", "一个星期", "半个月", "两个多月", "好几天", "一个多月", "大半年", "十来天"],
    "when": ["最近", "这几天", "上周", "从上个月开始", "今年以来", "这段时间", "近期", "入冬以来"],
    "night": ["晚上十点多", "凌晨一点", "夜里十一点", "半夜", "凌晨两三点", "晚上11点以后", "深夜"],
    "fee": ["50", "80", "100", "150", "200", "300", "500", "1200"],
    "ufee": ["1.8", "2.2", "2.5", "2.8", "3.2", "0.9", "1.5"],
    "wan": ["3", "5", "8", "10", "12", "15", "3.5", "6.8"],
    "area": ["89", "120", "76.5", "135", "98", "62"],
    "temp": ["12", "14", "15", "16", "13"],
    "year": ["1988", "1992", "1995", "1998", "2001", "1985"],
    "n": ["3", "5", "6", "8", "10", "12", "20", "30"],
    "bld": ["3栋", "5栋", "12号楼", "7号楼", "2栋", "9栋", "1号楼", "16栋", "4幢", "11栋"],
    "date": ["3月5日", "上周三", "前天", "昨天晚上", "本月12日", "周末", "5月20日", "10月8日", "前几天"],
    "dist": ["300", "500", "800", "200"],
    "sq": ["文化广场", "小游园", "健身广场", "中心广场"],
}

TEMPLATES: dict[str, list[str]] = {
    "停车管理": [
        "{estate}{park}太少，晚上回来根本找不到地方停，车都停到{road}上了。",
        "{road}两边长期乱停车，早晚高峰堵得走不动，希望交警来管一管。",
        "{estate}地下车库{park}只租不售，{wy}每月收{fee}元，比周边贵很多。",
        "有车辆长期占用{estate}消防通道，{bld}门口经常被堵死。",
        "{estate}里有好几辆僵尸车停了{dur}，占着{park}没人管。",
        "小区外来车辆随便进出，业主反而没{park}，门岗也不管。",
        "申请在{estate}增设充电桩，现在{n}个{park}只有两个充电桩。",
        "{road}路边停车收费每小时{ufee}元是否合理？收费员也不给票。",
        "{estate}道闸坏了{dur}，{wy}照样收停车费。",
        "能不能在{estate}门口施划一些临时{park}？老人就医接送不方便。",
        "{road}有人用地锁、石墩私占公共{park}，请城管处理。",
        "{when}{estate}违章停车越来越多，救护车都进不来。",
    ],
    "加装电梯与适老化": [
        "{estate}是{year}年建的老小区，{bld}住了很多老人，想申请加装电梯，流程怎么走？",
        "我们{bld}加装电梯一楼住户不同意，协调了{dur}还没结果，希望社区调解。",
        "加装电梯每户要出{wan}万元，政府补贴多少？",
        "{estate}{bld}的电梯装好{dur}了，一直没有验收投入使用。",
        "楼道没有扶手，老人上下楼很危险，能否做适老化改造？",
        "{estate}单元门口台阶太高，轮椅上不去，希望修个无障碍坡道。",
        "老旧小区改造能不能把加装电梯一起纳入？{bld}大部分住户都签字同意了。",
        "家里老人{n}十多岁住六楼，一年下不了几次楼，盼望加装电梯。",
        "加装电梯的审批要跑好几个部门，能不能简化一下？",
        "{estate}加装电梯施工把管线挖断了，{dur}没人修复。",
        "老人家里想装扶手和防滑地板，适老化改造补贴怎么申请？",
    ],
    "物业服务": [
        "{estate}{wy}服务差，收了物业费不办事，楼道灯坏了{dur}都没人修。",
        "物业费从每平方米{ufee}元涨到{ufee2}元，没开业主大会，合理吗？",
        "{estate}{bld}电梯经常停运，老人被困了好几次，{wy}一直推脱。",
        "{wy}擅自把小区绿地改成停车场收费，收益去哪了？",
        "{estate}屋顶漏水{dur}，{wy}说维修基金用不了，要业主自己出钱。",
        "业委会换届{dur}了还没选出来，物业合同到期怎么办？",
        "{wy}保安经常不在岗，{estate}{when}好几辆电动车被盗。",
        "小区水箱多年没清洗，{wy}也不公示检测报告。",
        "新来的{wy}门禁卡每张收{fee}元，是否合规？",
        "{estate}的公共收益从来不公开，业主要求{wy}公示账目。",
        "{wy}撤场了，{estate}现在没人管，垃圾没人收。",
        "电梯年检过期了还在用，{wy}说没钱维修。",
    ],
    "噪声扰民": [
        "{road}的工地{night}还在施工，打桩声吵得根本睡不着。",
        "{estate}楼下烧烤店每天营业到{night}，喝酒划拳声音很大。",
        "{community}{sq}广场舞音响开得太大，从晚上七点跳到十点，家里有高三学生。",
        "楼上邻居{night}还在拖椅子、蹦跳，沟通过没用。",
        "{estate}旁边的KTV每晚噪音扰民，{night}还有人在外面喧哗。",
        "{road}上渣土车夜间通行，轰隆声不断，严重影响休息。",
        "{estate}{bld}楼下的空调外机噪音很大，晚上根本没法开窗。",
        "装修噪音从早上七点开始，周末也不停，请问装修时间有规定吗？",
        "{road}商铺用大喇叭循环播放促销广告，吵了{dur}了。",
        "{estate}对面的夜宵摊{night}还很吵，请城管管一管。",
        "{when}{road}夜间施工，噪音扰民，希望环保部门查处。",
    ],
    "环境卫生": [
        "{estate}垃圾桶满了没人清运，臭味很大。",
        "{road}边有人乱倒建筑垃圾，堆了{dur}了。",
        "垃圾分类点设在{bld}窗户底下，夏天特别臭，能不能挪一挪？",
        "{estate}有住户在绿化带里种菜、养鸡，环境很差。",
        "{road}菜市场周边污水横流，鱼腥味很重。",
        "{estate}化粪池满了往外冒，反映好几次了。",
        "{road}的公共厕所长时间没人打扫，脏得进不去。",
        "小区流浪狗很多，到处是狗粪，还咬伤过小孩。",
        "村里的垃圾{dur}没人拉，堆在路边发臭。",
        "{community}的水塘发臭，死鱼漂在上面。",
        "{road}绿化带里的杂草一人多高，蚊虫很多。",
        "{when}{estate}垃圾清运不及时，垃圾堆成了小山。",
    ],
    "供暖供水": [
        "{estate}暖气不热，室内只有{temp}度，老人小孩都冻感冒了。",
        "供暖开始{dur}了，{bld}的暖气还是冰凉的。",
        "暖气费每平方米{ufee}元，可家里根本不热，能退费吗？",
        "{estate}暖气管道漏水，把楼下淹了，热力公司不来修。",
        "{when}{estate}暖气时冷时热，打热力公司电话没人接。",
        "{estate}又停水了，事先没有任何通知。",
        "自来水发黄有异味，不敢喝，请检测一下水质。",
        "{bld}高层水压太低，一到晚上就没水。",
        "水费怎么突然涨了一倍？{date}缴了{fee}元。",
        "村里的自来水还没通，喝的还是井水。",
        "{estate}停水{dur}了，生活受到很大影响。",
    ],
    "排水与积水": [
        "一下雨{road}就积水，水深到膝盖，车都熄火了。",
        "{estate}地下车库进水，好几辆车被泡。",
        "{road}下水道堵了，污水从井盖往外冒。",
        "{estate}雨水管道太细，每次暴雨{bld}一楼都被淹。",
        "{road}排水沟堵塞，希望尽快疏通。",
        "村口的排水渠被填了，一下雨农田就被淹。",
        "{date}暴雨后{estate}路面积水，老人小孩出不了门。",
        "{road}的雨水井被垃圾堵住，积水两天都退不了。",
        "{estate}化粪池和雨水管混接，一下雨就反味。",
        "{when}{road}路面积水严重，路过的车溅人一身水。",
    ],
    "消防安全": [
        "{estate}{bld}有住户在楼道里飞线充电，电线从窗户拉下来，很危险。",
        "电动车停在楼道里充电，堵住了安全出口。",
        "{estate}的消防栓没水，灭火器都过期了。",
        "{road}有小作坊住人又生产，消防隐患很大。",
        "消防通道被杂物占用，{wy}不清理。",
        "{estate}的烟感报警器坏了，消防设施长期没人维护。",
        "楼道里堆了很多纸箱和旧家具，一点就着。",
        "{estate}电动车充电棚迟迟不建，大家只能拉线充电。",
        "{road}的饭店液化气罐放在门口，太危险了。",
        "{when}{estate}多次出现飞线充电，请社区排查。",
    ],
    "教育托育": [
        "{estate}附近没有公办幼儿园，孩子上学要跑好几公里。",
        "学区划分不合理，{estate}离学校只有{dist}米却划到了别的学校。",
        "社区能否开办托育点？双职工家庭孩子没人带。",
        "{road}学校门口放学时段交通拥堵，孩子过马路很危险。",
        "课后服务每学期收费{fee}元，是否自愿？",
        "幼儿园学位紧张，今年报名的孩子还有{n}个没学上。",
        "暑假能不能在社区组织一些托管活动？",
        "{community}的小学教室不够，一个班五六十个学生。",
        "私立幼儿园收费太高，每月{fee}元，普惠园什么时候建？",
        "孩子入学需要的居住证明去哪里开？",
    ],
    "医疗养老": [
        "社区卫生服务中心医生太少，看病要排很久的队。",
        "{estate}老人多，能否建一个社区食堂，解决老人吃饭问题？",
        "高龄补贴申请了{dur}还没发下来，每月{fee}元。",
        "家里老人瘫痪在床，居家养老服务怎么申请？",
        "医保报销比例是多少？门诊花了{fee}元只报了一点。",
        "{community}养老服务站建好了一直没开门。",
        "村卫生室没有医生坐诊，老人看病要去县城。",
        "慢性病药品社区医院没有，只能去大医院开。",
        "日间照料中心收费每月{fee}元，能不能降一点？",
        "{when}家庭医生签约了但从来没上门过。",
        "{estate}独居老人多，希望社区定期上门探访。",
    ],
    "市政设施": [
        "{road}的路灯坏了{dur}，晚上一片漆黑。",
        "{road}人行道地砖破损，老人摔倒了。",
        "{estate}门口的井盖松动，车压上去响得厉害。",
        "{road}红绿灯时间太短，老人过不去。",
        "{road}公交站台没有遮雨棚，希望增设。",
        "村道坑坑洼洼，雨天根本走不了。",
        "{road}有个大坑{dur}了没人补，电动车摔了好几次。",
        "{estate}附近的健身器材坏了，存在安全隐患。",
        "{road}的护栏被撞坏了一直没修。",
        "{community}到镇上没有公交车，能不能开通一条线路？",
    ],
}
_HEATING = {0, 1, 2, 3, 4}  # indices of the heating templates of 供暖供水

# Surge terms: (category, term, months allowed or None, templates — each contains the term)
SURGE_TERMS: list[tuple[str, str, tuple[int, ...] | None, list[str]]] = [
    (
        "消防安全",
        "飞线充电",
        None,
        [
            "{estate}{bld}又有人飞线充电，电线从楼上垂下来。",
            "{when}{estate}飞线充电越来越多，晚上到处是插线板。",
            "飞线充电太危险了，{estate}能不能建充电桩？",
            "{bld}楼下飞线充电，电线横穿人行道。",
            "{estate}有人从窗户拉线飞线充电，请社区管一管。",
        ],
    ),
    (
        "物业服务",
        "电梯停运",
        None,
        [
            "{estate}{bld}电梯停运{dur}了，老人只能爬楼。",
            "电梯停运没人修，{wy}说在等配件。",
            "{estate}电梯停运，住二十楼的孕妇下不了楼。",
            "{when}{estate}电梯停运好几次，{wy}不管。",
            "{bld}电梯停运，维修公司一直不来。",
        ],
    ),
    (
        "供暖供水",
        "暖气不热",
        (11, 12, 1, 2),
        [
            "{estate}暖气不热，室内才{temp}度。",
            "{bld}暖气不热，家里老人冻病了。",
            "{when}{estate}暖气不热，热力公司说管道有气。",
            "暖气不热还要交全额暖气费吗？{estate}普遍只有{temp}度。",
            "{estate}整栋楼暖气不热，请尽快派人排查。",
        ],
    ),
    (
        "排水与积水",
        "路面积水",
        (6, 7, 8),
        [
            "{road}路面积水到小腿，公交车都绕行了。",
            "{date}大雨后{road}路面积水一直不退。",
            "{estate}门口路面积水，居民出门要蹚水。",
            "{road}一下雨就路面积水，下水口都堵了。",
            "{when}{road}路面积水严重，请尽快疏通。",
        ],
    ),
    (
        "噪声扰民",
        "夜间施工",
        (4, 5, 6, 7, 8, 9, 10),
        [
            "{road}工地夜间施工到{night}，根本睡不着。",
            "{estate}旁边工地夜间施工，打桩声不断。",
            "夜间施工有没有审批？{road}天天干到{night}。",
            "{when}{road}夜间施工扰民，请环保部门查处。",
            "{estate}对面夜间施工，灯光和噪音都很大。",
        ],
    ),
    (
        "环境卫生",
        "垃圾清运",
        None,
        [
            "{estate}垃圾清运不及时，垃圾桶都满出来了。",
            "{when}{estate}垃圾清运跟不上，臭气熏天。",
            "垃圾清运车{dur}没来了，{estate}门口堆成山。",
            "{road}垃圾清运太晚，早上还是一地垃圾。",
            "{estate}换了保洁公司后垃圾清运经常断档。",
        ],
    ),
    (
        "停车管理",
        "违章停车",
        None,
        [
            "{road}违章停车严重，双向车道只剩一条。",
            "{estate}门口违章停车，消防车都进不来。",
            "{when}{road}违章停车越来越多，请交警多来巡查。",
            "{estate}出口被违章停车堵住，早上出不去。",
            "{road}学校门口违章停车，接孩子的车排成长龙。",
        ],
    ),
    (
        "噪声扰民",
        "广场舞",
        (4, 5, 6, 7, 8, 9, 10),
        [
            "{community}{sq}广场舞音响太大，跳到晚上十点。",
            "广场舞噪音扰民，{estate}的老人小孩没法休息。",
            "{when}{sq}广场舞音乐越来越大声，沟通无效。",
            "能否规定广场舞的时间和音量？{estate}旁边太吵了。",
            "{sq}广场舞从早上六点就开始放音乐。",
        ],
    ),
    (
        "教育托育",
        "幼儿园学位",
        (5, 6, 7, 8),
        [
            "{estate}附近幼儿园学位不够，孩子报不上名。",
            "幼儿园学位太紧张，{community}今年好多孩子没学上。",
            "{when}幼儿园学位报名系统一直进不去。",
            "公办幼儿园学位能不能增加一些？{estate}新入住的家庭很多。",
            "{community}幼儿园学位分配不透明。",
        ],
    ),
    (
        "医疗养老",
        "社区食堂",
        None,
        [
            "{community}社区食堂停办了，老人吃饭成了问题。",
            "希望{estate}附近开一个社区食堂。",
            "{when}社区食堂饭菜涨价，老人吃不起。",
            "社区食堂排队太久，老人站不住。",
            "{community}社区食堂什么时候恢复营业？",
        ],
    ),
]

# Hot issues: (category, problem, place kind, months allowed or None, templates with {place})
HOT_ISSUES: list[tuple[str, str, str, tuple[int, ...] | None, list[str]]] = [
    (
        "停车管理",
        "车位捆绑销售",
        "estate",
        None,
        [
            "{place}开发商车位捆绑销售，不买车位不给交房。",
            "{place}车位捆绑销售，一个车位要价{wan}万元，强买强卖。",
            "投诉{place}开发商捆绑销售车位，要求有关部门查处。",
            "{place}不买车位就不给办房产证，这合法吗？",
            "{place}车位只售不租，还要和房子捆绑，业主很气愤。",
            "{place}业主集体反映车位捆绑销售问题，盼复。",
            "请住建部门查一查{place}的车位捆绑销售。",
        ],
    ),
    (
        "噪声扰民",
        "工地夜间施工噪声",
        "site",
        (4, 5, 6, 7, 8, 9, 10),
        [
            "{place}天天夜里施工到凌晨，打桩声吵得睡不着。",
            "{place}夜间施工噪音太大，有没有夜间施工许可？",
            "{place}渣土车半夜进出，噪音和灰尘都很大。",
            "投诉{place}违规夜间施工，已经持续很多天了。",
            "{place}凌晨还在浇筑混凝土，周边居民无法休息。",
            "{place}的噪声严重扰民，请环保部门夜间来查。",
            "{place}晚上施工灯光直射进卧室，噪音更是不停。",
        ],
    ),
    (
        "物业服务",
        "电梯频繁故障",
        "estate",
        None,
        [
            "{place}的电梯一个月坏了五六次，有人被困。",
            "{place}电梯频繁故障，{wy}只是临时修一修。",
            "{place}电梯老化严重，经常停在半空。",
            "要求{place}更换电梯，现在天天出故障。",
            "{place}电梯故障频发，老人都不敢坐了。",
            "{place}电梯又坏了，维修费用谁出？",
        ],
    ),
    (
        "环境卫生",
        "垃圾中转站臭味",
        "station",
        (5, 6, 7, 8, 9),
        [
            "{place}臭味太大了，周边住户不敢开窗。",
            "{place}污水横流，夏天臭气熏天。",
            "{place}离居民楼太近，要求搬迁。",
            "{place}每天早上作业噪音大、臭味重。",
            "{place}的垃圾渗滤液流到路上，苍蝇成群。",
            "能不能给{place}加装除臭设备？",
        ],
    ),
    (
        "供暖供水",
        "小区暖气不热",
        "estate",
        (11, 12, 1, 2),
        [
            "{place}整个小区暖气不热，室温只有{temp}度。",
            "{place}供暖不达标，要求退还部分暖气费。",
            "{place}暖气片冰凉，热力公司说是管网问题。",
            "{place}业主联名反映暖气不热。",
            "{place}暖气时有时无，家里老人冻病了。",
            "{place}供暖温度太低，打热线也没用。",
        ],
    ),
    (
        "排水与积水",
        "地下车库反复进水",
        "estate",
        (6, 7, 8),
        [
            "{place}地下车库又进水了，车被泡了。",
            "{place}车库排水泵坏了，一下雨就成了池塘。",
            "{place}地下车库积水半米深，开发商要负责。",
            "要求{place}整改车库排水系统。",
            "{place}车库进水好几次了，{wy}不处理。",
            "{place}雨后车库积水，电动车电池都泡坏了。",
        ],
    ),
    (
        "教育托育",
        "新建小区无配套幼儿园",
        "estate",
        (3, 4, 5, 6, 7, 8),
        [
            "{place}规划的配套幼儿园一直没建，孩子没地方上学。",
            "{place}配套幼儿园被改成了商铺，请有关部门查。",
            "{place}几千户居民没有幼儿园，要求兑现规划。",
            "{place}的孩子上幼儿园要坐车半小时。",
            "{place}配套幼儿园什么时候开工？",
            "请教育局关注{place}配套幼儿园缺失的问题。",
        ],
    ),
    (
        "医疗养老",
        "养老服务中心停办",
        "center",
        None,
        [
            "{place}突然停办，老人没有地方去了。",
            "{place}停办后老人的餐补怎么办？",
            "希望{place}尽快恢复开放。",
            "{place}关门了，社区说在整改，什么时候开？",
            "{place}停办，独居老人没人照看。",
            "{place}之前办得很好，为什么停了？",
        ],
    ),
]


# --- fictional personal data ---------------------------------------------------------------------
_ID_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_REGIONS = ("430102", "430103", "430111", "430121", "430181", "110105", "320582", "440304")


def _id_number(rng: random.Random) -> str:
    born = date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 65))
    body = rng.choice(_REGIONS) + born.strftime("%Y%m%d") + f"{rng.randrange(1000):03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _ID_W, strict=True)) % 11]


def _phone(rng: random.Random) -> str:
    d = "1" + rng.choice("3456789") + "".join(str(rng.randrange(10)) for _ in range(9))
    style = rng.random()
    if style < 0.6:
        return d
    if style < 0.75:
        return f"{d[:3]} {d[3:7]} {d[7:]}"
    if style < 0.9:
        return f"{d[:3]}-{d[3:7]}-{d[7:]}"
    return "+86 " + d


def _tel(rng: random.Random) -> str:
    local = str(rng.randrange(2, 9)) + "".join(str(rng.randrange(10)) for _ in range(7))
    return rng.choice(("0731-", "0731-", "0731 ", "(0731)", "010-")) + local


def _plate(rng: random.Random) -> str:
    letters = "ABCDEFGHJKLMNPQRSTUVWXYZ"
    tail = "".join(rng.choice("0123456789" if i != 1 or rng.random() < 0.6 else letters) for i in range(5))
    if rng.random() < 0.2:
        tail = rng.choice("DF") + tail
    return "湘" + rng.choice("ABCDEFGHJ") + rng.choice(("", "·", " ")) + tail


def _door(rng: random.Random) -> str:
    b = rng.randrange(1, 25)
    room = rng.randrange(1, 26) * 100 + rng.randrange(1, 5)
    form = rng.randrange(4)
    if form == 0:
        return f"{b}栋{rng.randrange(1, 5)}单元{room}室"
    if form == 1:
        return f"{b}号楼{rng.randrange(1, 5)}单元{room}"
    if form == 2:
        return f"{b}幢{room}室"
    return f"{b}号楼{room}"


def _email(rng: random.Random) -> str:
    user = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randrange(4, 9)))
    return user + str(rng.randrange(10, 999)) + rng.choice(("@qq.com", "@163.com", "@126.com", "@sina.com"))


# (kind, where it goes: after the opener / after the body / at the end, template, value maker)
_PII_PHRASES = [
    ("PHONE", "end", "联系电话{v}。", _phone),
    ("PHONE", "end", "我的手机号{v}。", _phone),
    ("PHONE", "end", "有事请打{v}。", _phone),
    ("PHONE", "end", "电话：{v}", _phone),
    ("PHONE", "head", "手机{v}，", _phone),
    ("TEL", "end", "座机{v}。", _tel),
    ("TEL", "end", "家里电话{v}。", _tel),
    ("DOOR", "head", "我家住{estate}{v}，", _door),
    ("DOOR", "head", "我是{estate}{v}的住户，", _door),
    ("IDCARD", "head", "身份证号{v}，", _id_number),
    ("PLATE", "mid", "车牌{v}的车又停在这里。", _plate),
    ("PLATE", "mid", "肇事车辆车牌{v}。", _plate),
    ("EMAIL", "end", "材料发我邮箱{v}。", _email),
    ("EMAIL", "end", "回复请发邮箱{v}。", _email),
]
_PII_WEIGHTS = [14, 10, 8, 8, 5, 4, 3, 12, 9, 8, 7, 5, 3, 2]
# where an ID number or a plate makes sense; elsewhere a phone number is left instead
_ID_CATEGORIES = {"医疗养老", "教育托育", "供暖供水", "加装电梯与适老化"}
_PLATE_CATEGORIES = {"停车管理", "消防安全", "噪声扰民", "市政设施"}


def _pii_phrase(
    rng: random.Random, c: Community, estate: str, category: str, opener: str
) -> tuple[str, str, str, str]:
    """(kind, where, phrase, value) of one piece of fictional personal data fitting the message."""
    kind, where, tpl, maker = rng.choices(_PII_PHRASES, weights=_PII_WEIGHTS)[0]
    if (kind == "IDCARD" and category not in _ID_CATEGORIES) or (
        kind == "PLATE" and category not in _PLATE_CATEGORIES
    ):
        kind, where, tpl, maker = _PII_PHRASES[0]
    if estate in opener:  # "我是X小区的业主，我家住X小区3栋…" → "…我家住3栋…"
        tpl = tpl.replace("{estate}", "")
    value = maker(rng)
    return kind, where, tpl.replace("{estate}", estate).replace("{v}", value), value


# --- building -----------------------------------------------------------------------------------
@dataclass
class SampleSet:
    messages: pd.DataFrame
    surges: pd.DataFrame
    hot_issues: pd.DataFrame
    #: (message id, kind, value) of every planted piece of personal data
    pii: list[tuple[str, str, str]]


def _pick_estate(rng: random.Random, c: Community) -> str:
    return rng.choice(c.old_estates) if c.old_estates and rng.random() < 0.25 else rng.choice(c.estates)


def _fill(
    template: str, rng: random.Random, c: Community, estate: str | None = None, place: str | None = None
) -> str:
    est = estate or _pick_estate(rng, c)
    out = template
    if "{" not in out:
        return out
    values = {
        "estate": est,
        "community": c.name,
        "road": rng.choice(c.roads),
        "place": place or est,
        "ufee2": f"{float(rng.choice(_SLOTS['ufee'])) + 0.6:.1f}",
    }
    for key, pool in _SLOTS.items():
        if "{" + key + "}" in out:
            values[key] = rng.choice(pool)
    return out.format(**values)


def _compose(body: str, rng: random.Random, c: Community, estate: str) -> tuple[str, str, str]:
    """(opener, body, closer) of one message; :func:`_punct` varies the punctuation of the whole."""
    if body.endswith("。") and rng.random() < 0.1:
        body = body[:-1] + rng.choice(("啊。", "呀。", "！", "！！", "。。。"))
    opener = _fill(rng.choice(_OPEN), rng, c, estate)
    if estate in opener and estate in body:  # "本人住在X小区，X小区…" → "本人住在X小区，我们小区…"
        body = body.replace(estate, rng.choice(("小区", "我们小区", "我们小区", "本小区")), 1)
    return opener, body, _fill(rng.choice(_CLOSE), rng, c, estate)


def _punct(text: str, rng: random.Random) -> str:
    r = rng.random()
    if r < 0.12:
        text = text.replace("，", ",")
    elif r < 0.18:
        text = text.replace("。", "！")
    elif r < 0.24 and text.endswith("。"):
        text = text[:-1]
    return text


def _week_starts() -> list[date]:
    first = START + timedelta(days=(7 - START.weekday()) % 7)  # first Monday: 2023-01-02
    out = []
    d = first
    while d + timedelta(days=6) <= END:
        out.append(d)
        d += timedelta(days=7)
    return out


def build(scale: int = 1, seed: int = 0) -> SampleSet:
    """The sample tables in memory (what :func:`generate` writes), plus the planted personal data."""
    if scale < 1:
        raise ConfigError(f"scale must be an integer ≥ 1, got {scale!r}")
    rng = random.Random(seed * 7919 + 11)
    nrng = np.random.default_rng([seed, 20230101])
    comms = _communities(scale, rng)
    n_c, n_k = len(comms), len(CATEGORIES)
    days = pd.date_range(START, END, freq="D")
    months = days.month.to_numpy()
    t = np.arange(N_DAYS) / N_DAYS
    weekday = np.where(days.day_of_week.to_numpy() >= 5, 0.8, 1.06)

    # expected daily counts: community × category × day
    share = np.array([_SHARE[c.area] for c in comms])  # (n_c, n_k)
    season = np.ones((n_k, N_DAYS))
    for k, cat in enumerate(CATEGORIES):
        if cat in _SEASON:
            season[k] = np.array(_SEASON[cat])[months - 1]
        season[k] *= 1 + (0.12 + _TREND.get(cat, 0.0)) * t
    weights = np.array([c.weight for c in comms])
    weights *= len(comms) / weights.sum()
    rate = _BASE_RATE * weights[:, None, None] * share[:, :, None] * season[None] * weekday[None, None]
    counts = nrng.poisson(rate)  # (n_c, n_k, N_DAYS)

    rows: list[tuple] = []  # (day index, community idx, category idx, text, kind, extra)
    pii: list[tuple[int, str, str]] = []  # (row index, kind, value)

    def add(
        day: int,
        ci: int,
        ki: int,
        tpl: str,
        kind: str = "base",
        likes: int | None = None,
        user: str | None = None,
        place: str | None = None,
    ) -> int:
        """One message from a template; its estate is chosen once and used for opener and body alike."""
        c = comms[ci]
        estate = place if place in c.estates or place in c.old_estates else _pick_estate(rng, c)
        body = _fill(tpl, rng, c, estate, place)
        rows.append((day, ci, ki, (*_compose(body, rng, c, estate), estate), kind, likes, user))
        return len(rows) - 1

    def base_text(ci: int, ki: int, day_month: int) -> str:
        c = comms[ci]
        cat = CATEGORIES[ki]
        tpls = TEMPLATES[cat]
        idx = [i for i in range(len(tpls)) if c.area == "rural" or not tpls[i].startswith("村")]
        if cat == "供暖供水":
            heating = rng.random() < (0.85 if day_month in (11, 12, 1, 2, 3) else 0.06)
            idx = [i for i in idx if (i in _HEATING) == heating]
        return tpls[rng.choice(idx)]

    month_of_day = months
    for ci, ki, di in zip(*np.nonzero(counts), strict=True):
        for _ in range(int(counts[ci, ki, di])):
            add(int(di), int(ci), int(ki), base_text(int(ci), int(ki), int(month_of_day[di])))

    # planted surges
    weeks = _week_starts()
    n_surges = 8 * scale
    surge_rows = []
    cell_rate = rate.sum(axis=2)  # expected messages per (community, category) over two years
    term_order = list(range(len(SURGE_TERMS)))
    used_cells: set[tuple[int, int]] = set()
    for s in range(n_surges):
        spec_i = term_order[s % len(term_order)]
        cat, term, allowed, tpls = SURGE_TERMS[spec_i]
        ki = CATEGORIES.index(cat)
        used_comms = {c for c, _ in used_cells}
        ranked = [int(ci) for ci in np.argsort(-cell_rate[:, ki]) if (int(ci), ki) not in used_cells]
        ranked = [ci for ci in ranked if ci not in used_comms] or ranked
        ci = int(ranked[rng.randrange(min(len(ranked), max(4, n_c // 4)))])
        used_cells.add((ci, ki))
        n_weeks = rng.randint(2, 6)
        mult = round(rng.uniform(3.5, 6.0), 1)
        candidates = [
            w
            for w in range(4, len(weeks) - n_weeks)
            if allowed is None
            or all((weeks[w] + timedelta(days=7 * j + 3)).month in allowed for j in range(n_weeks))
        ]
        w0 = rng.choice(candidates)
        d0 = (weeks[w0] - START).days
        d1 = d0 + 7 * n_weeks  # exclusive
        expected_in = rate[ci, ki, d0:d1].sum()
        extra = max(
            int(nrng.poisson(max(expected_in * (mult - 1), 0.0))), 2 * n_weeks
        )  # ≥ 2 term messages a week
        for _ in range(extra):
            add(rng.randrange(d0, d1), ci, ki, rng.choice(tpls), kind="surge")
        # top up: window count >= mult × mean weekly count outside the window × n_weeks
        base_total = int(counts[ci, ki].sum())
        in_win = int(counts[ci, ki, d0:d1].sum()) + extra
        outside = base_total - int(counts[ci, ki, d0:d1].sum())
        base_weekly = outside / (len(weeks) - n_weeks)
        need = max(int(np.ceil(mult * base_weekly * n_weeks + 1e-9)), 2 * n_weeks) - in_win
        for _ in range(max(0, need)):
            add(rng.randrange(d0, d1), ci, ki, rng.choice(tpls), kind="surge")
        c = comms[ci]
        surge_rows.append(
            (
                c.district,
                c.name,
                cat,
                term,
                weeks[w0].isoformat(),
                (weeks[w0] + timedelta(days=7 * n_weeks - 1)).isoformat(),
                mult,
            )
        )

    # planted hot issues
    hot_specs = []
    surge_comms = {(r[1], r[2]) for r in surge_rows}
    hot_comms: set[int] = set()
    for h in range(8 * scale):
        cat, problem, place_kind, allowed, tpls = HOT_ISSUES[h % len(HOT_ISSUES)]
        ki = CATEGORIES.index(cat)
        pool = [
            ci
            for ci in range(n_c)
            if (comms[ci].name, cat) not in surge_comms
            and (comms[ci].area == "urban" or place_kind in ("station", "center", "site"))
        ]
        fresh = [ci for ci in pool if ci not in hot_comms]
        ci = rng.choice(fresh or pool)
        hot_comms.add(ci)
        c = comms[ci]
        if place_kind == "estate":
            place = rng.choice(c.estates)
        elif place_kind == "site":
            place = (
                rng.choice(c.roads) + rng.choice(("", "北段", "东段")) + rng.choice(_ESTATE_A) + "项目工地"
            )
        elif place_kind == "station":
            place = rng.choice(c.roads) + "垃圾中转站"
        else:
            place = c.name.removesuffix("社区") + rng.choice(("居家养老服务中心", "日间照料中心", "老年食堂"))
        n_msg = rng.randint(8, 40)
        span = rng.randint(14, 42)
        starts = [
            d
            for d in range(20, N_DAYS - span - 5)
            if allowed is None
            or (
                (START + timedelta(days=d)).month in allowed
                and (START + timedelta(days=d + span)).month in allowed
            )
        ]
        d0 = rng.choice(starts)
        ids = []
        for j in range(n_msg):
            day = d0 + min(span - 1, int(rng.expovariate(2.2 / span)))
            likes = min(int(nrng.pareto(1.3) * 6), 2000) + (rng.randrange(20, 120) if j == 0 else 0)
            ids.append(
                add(
                    day,
                    ci,
                    ki,
                    rng.choice(tpls),
                    kind="hot",
                    likes=likes,
                    user=f"H{h:03d}{j:02d}",
                    place=place,
                )
            )
        hot_specs.append((f"H{h + 1:02d}", c.district, c.name, place, cat, problem, ids))

    # finish every row: opener/closer, personal data, time, channel, status, likes, user
    order_key = []
    texts: list[str] = []
    for i, (day, ci, ki, parts, _kind, _likes, _user) in enumerate(rows):
        c = comms[ci]
        opener, body, closer, estate = parts
        if rng.random() < 0.10:
            pkind, where, phrase, value = _pii_phrase(rng, c, estate, CATEGORIES[ki], opener)
            if where == "head":
                opener += phrase
            elif where == "mid":
                body += phrase
            else:
                closer += phrase
            pii.append((i, pkind, value))
        text = _punct(opener + body + closer, rng)
        texts.append(text)
        hours = _NIGHT_HOURS if CATEGORIES[ki] == "噪声扰民" else _HOURS
        hour = rng.choices(range(24), weights=hours)[0]
        order_key.append((day, hour, rng.randrange(3600), i))
    order_key.sort()
    new_id = {old: f"M{pos + 1:06d}" for pos, (_, _, _, old) in enumerate(order_key)}

    # users: a few frequent writers per community, otherwise mostly one-off ids
    frequent = {ci: [f"U{100000 + 10 * ci + j:06d}" for j in range(6)] for ci in range(n_c)}
    out_rows = []
    for day, hour, sec, i in order_key:
        _, ci, ki, _, kind, hot_likes, hot_user = rows[i]
        c = comms[ci]
        ts = datetime(START.year, START.month, START.day) + timedelta(days=day, hours=hour, seconds=sec)
        ch_w = (0.45, 0.35, 0.1, 0.1) if c.area == "urban" else (0.45, 0.15, 0.1, 0.3)
        ch = "网上留言" if kind == "hot" else rng.choices(CHANNELS, weights=ch_w)[0]
        lk = hot_likes if hot_likes is not None else (int(nrng.pareto(1.6) * 1.5) if ch == "网上留言" else 0)
        age = (END - ts.date()).days
        st = rng.choices(STATUSES, weights=(0.9, 0.04, 0.06) if age > 30 else (0.35, 0.6, 0.05))[0]
        cl = ""
        if st == "已办结":
            done = ts + timedelta(hours=float(np.exp(rng.gauss(4.2, 1.0))) + 0.5)
            cl = done.strftime("%Y-%m-%d %H:%M:%S")
        if hot_user is not None:  # every message of a hot issue by a different user
            user = f"U{900000 + int(hot_user[1:]):06d}"
        else:
            user = (
                rng.choice(frequent[ci]) if rng.random() < 0.12 else f"U{rng.randrange(200000, 900000):06d}"
            )
        out_rows.append(
            (
                new_id[i],
                ts.strftime("%Y-%m-%d %H:%M:%S"),
                c.district,
                c.name,
                user,
                texts[i],
                CATEGORIES[ki],
                ch,
                lk,
                st,
                cl,
            )
        )
    messages = pd.DataFrame(
        out_rows,
        columns=[
            "id",
            "created_at",
            "district",
            "community",
            "user_id",
            "text",
            "category",
            "channel",
            "likes",
            "status",
            "closed_at",
        ],
    )
    surges = pd.DataFrame(
        surge_rows, columns=["district", "community", "category", "term", "start", "end", "multiplier"]
    )
    hot_rows = []
    for key, district, community, place, cat, problem, ids in hot_specs:
        mids = sorted(new_id[i] for i in ids)
        when = sorted(rows[i][0] for i in ids)
        hot_rows.append(
            (
                key,
                district,
                community,
                place,
                cat,
                (START + timedelta(days=when[0])).isoformat(),
                (START + timedelta(days=when[-1])).isoformat(),
                ";".join(mids),
                problem,
                len(mids),
            )
        )
    hot = pd.DataFrame(
        hot_rows,
        columns=[
            "issue_key",
            "district",
            "community",
            "place",
            "category",
            "start",
            "end",
            "message_ids",
            "problem",
            "n_messages",
        ],
    )
    planted = [(new_id[i], kind, value) for i, kind, value in pii]
    return SampleSet(messages, surges, hot, sorted(planted))


def generate(out_dir: Path, scale: int = 1, seed: int = 0) -> list[Path]:
    """Write messages.csv, truth_surges.csv and truth_hot_issues.csv into ``out_dir``."""
    from govml.io import write_table

    out_dir = Path(out_dir)
    s = build(scale=scale, seed=seed)
    return [
        write_table(s.messages, out_dir / "messages.csv"),
        write_table(s.surges, out_dir / "truth_surges.csv"),
        write_table(s.hot_issues, out_dir / "truth_hot_issues.csv"),
    ]
