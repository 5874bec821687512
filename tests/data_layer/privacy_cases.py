"""Planted personal-data cases for measuring govml.privacy (precision and recall per kind).

Each case is a realistic Chinese sentence with the personal data marked inline as
``[[KIND:value]]``; :func:`parse` turns it into the plain text and the expected spans. Look-alikes
(dates, amounts, order numbers, areas, times, postcodes, statute numbers…) are left unmarked: any
span found in them is a false positive. All values are fictional. The check digits of ID and card
numbers are computed here independently of govml.privacy.

Used by tests/data_layer/test_privacy_cases.py and benchmarks/bench_privacy.py.
"""

from __future__ import annotations

import random
import re

_MARK = re.compile(r"\[\[([A-Z]+):(.+?)\]\]")
_W = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id(region: str, birth: str, seq: str) -> str:
    """An 18-digit resident ID with a correct ISO 7064 MOD 11-2 check character."""
    body = region + birth + seq
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, _W, strict=True)) % 11]


def bad_id(valid: str) -> str:
    """The same ID with a wrong check character."""
    wrong = "0" if valid[-1] != "0" else "1"
    return valid[:-1] + wrong


def make_card(prefix: str, length: int, rng: random.Random) -> str:
    """A card number of ``length`` digits starting with ``prefix`` whose last digit makes Luhn pass."""
    body = prefix + "".join(str(rng.randrange(10)) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, c in enumerate(reversed(body)):
        n = int(c)
        if i % 2 == 0:  # doubled once the check digit is appended
            n *= 2
            n -= 9 if n > 9 else 0
        total += n
    return body + str((10 - total % 10) % 10)


def group4(digits: str, sep: str = " ") -> str:
    return sep.join(digits[i : i + 4] for i in range(0, len(digits), 4))


def to_fullwidth(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


def parse(case: str) -> tuple[str, list[tuple[str, int, int]]]:
    """Plain text and the expected (kind, start, end) spans of a marked case."""
    out: list[str] = []
    spans: list[tuple[str, int, int]] = []
    pos = 0
    length = 0
    for m in _MARK.finditer(case):
        plain = case[pos : m.start()]
        out.append(plain)
        length += len(plain)
        value = m.group(2)
        spans.append((m.group(1), length, length + len(value)))
        out.append(value)
        length += len(value)
        pos = m.end()
    out.append(case[pos:])
    return "".join(out), spans


_rng = random.Random(20240611)
IDS = [
    make_id("430102", "19900101", "123"),
    make_id("110105", "19751230", "004"),
    make_id("320582", "20010815", "876"),
    make_id("440304", "19881109", "555"),
    make_id("510107", "19650304", "021"),
    make_id("330106", "19930722", "318"),
    make_id("420111", "19580916", "047"),
    make_id("610113", "20120229", "662"),
    make_id("370202", "19790511", "239"),
    make_id("350203", "19990131", "580"),
    make_id("460105", "19840420", "117"),
    make_id("650102", "19700707", "808"),
    make_id("220104", "19921212", "390"),
]
IDS_X = [
    i for i in (make_id("4301" + f"{n:02d}", "19860615", f"{n:03d}") for n in range(1, 60)) if i[-1] == "X"
][:3]
CARDS = [
    make_card("622202", 19, _rng),
    make_card("622848", 19, _rng),
    make_card("621700", 19, _rng),
    make_card("622588", 16, _rng),
    make_card("436742", 16, _rng),
    make_card("625965", 16, _rng),
    make_card("955880", 19, _rng),
    make_card("601382", 19, _rng),
    make_card("623668", 19, _rng),
    make_card("518710", 16, _rng),
    make_card("622700", 18, _rng),
    make_card("621483", 16, _rng),
]

PHONES = [
    "13812345678",
    "138 1234 5678",
    "138-1234-5678",
    "+86 13912345678",
    "+8613700001111",
    "0086 15073112345",
    "86-18900731234",
    "186 7310 2345",
    "1597-3101-234",
    "17708461234",
    "199 7311 0022",
    "166 0731 8888",
    "13548765432",
    "(+86)13107311234",
    "152 7316 6666",
    "18684961234",
    "173-0731-1234",
    "14789065432",
    "19173110086",
    "158 0000 1234",
    "136-7318-0099",
    "189 7318 7780",
    "+86-135-0731-5678",
    "13007318899",
    "150 7312 3344",
]
TELS = [
    "010-12345678",
    "0731-88886666",
    "(0731)88886666",
    "0731 8888 6666",
    "0731-88886666转123",
    "020-87654321",
    "（0755）26543210",
    "0731-8222123",
    "021 6432 1234",
    "0744-8234567",
    "0731-84451234-806",
    "023-63851234",
    "0898-66123456转2",
    "028 8765 4321",
    "0371-67891234",
    "(010)65123456",
    "0731-82235678分机18",
    "0512-65231234",
    "029-88451234",
    "0736-7221234",
]
PLATES = [
    "湘A12345",
    "湘A·12345",
    "湘A 12345",
    "湘AD12345",
    "湘A·D12345",
    "京A·F0236",
    "粤B12345",
    "川A·8K5G2",
    "湘a3h6k8",
    "沪C88521",
    "苏E·5G7Y3",
    "浙A·DF2345",
    "鄂A·U8M21",
    "湘C·7T2Q9",
    "赣A50397",
    "湘A·BP321",
    "渝A·77216",
    "豫A-23S56",
    "湘AF12345",
    "黑A·L0012",
    "湘A·2Q8W1",
]
EMAILS = [
    "zhangsan@163.com",
    "li.si_2019@qq.com",
    "12345678@qq.com",
    "wang-wu@126.com",
    "resident.a@sina.com.cn",
    "Chen.Ming@Gmail.com",
    "xiaoli99@foxmail.com",
    "zhao_liu@outlook.com",
    "yezhu_3dong@yeah.net",
    "hnzhang@139.com",
    "cs12345@hotmail.com",
    "qq87654321@vip.qq.com",
    "liuping@aliyun.com",
    "tian.y@sohu.com",
]
DOORS = [
    "3栋2单元501室",
    "12号楼3单元402",
    "5幢301室",
    "8号楼1102",
    "7栋1单元1203室",
    "3号楼2单元601",
    "16栋404室",
    "2幢3单元702",
    "9号楼2301室",
    "1栋1单元101",
    "A3栋2单元1502",
    "21栋3单元1704",
    "4号楼1单元5楼502",
    "6栋603房",
    "11幢2单元1101室",
    "2单元501室",
    "1102室",
    "18号楼2003",
    "3栋2单元 501室",
    "10栋2单元1602室",
    "5号楼3单元302室",
    "2号楼803",
    "13栋1901室",
    "7号楼2单元1801",
    "3座2506室",
]

_PHONE_T = [
    "您好，我是小区业主，电话{}，希望尽快处理。",
    "联系方式：{}，麻烦工作人员回个电话。",
    "请问找谁反映？我的手机号是{}。",
    "师傅说打{}就可以预约维修，但是一直没人接。",
    "有问题请联系{}（王先生）。",
    "楼下开店的老板电话{}，他家油烟太大了",
    "我昨天拨打了{}，对方说不归他们管。",
    "物业经理手机{}一直关机，希望领导重视。",
]
_TEL_T = [
    "我们打了物业办公室电话{}，没人接。",
    "街道办的电话{}一直占线，请问还有别的渠道吗？",
    "已向社区居委会（{}）反映过多次。",
    "业委会座机：{}，欢迎监督。",
    "拨打{}后被告知需要等待。",
]
_ID_T = [
    "本人身份证号{}，申请办理低保。",
    "我母亲的身份证号码是{}，至今未收到补贴。",
    "户主{}，家里4口人。",
    "证件号：{} 请核实后回复。",
    "申请人（身份证{}）已提交材料。",
]
_CARD_T = [
    "补贴应打到我的银行卡{}，但是没有到账。",
    "工资卡号{}，请核对。",
    "农商行账户：{}，户名李某。",
    "退款请转到{}，谢谢。",
]
_EMAIL_T = [
    "有资料可以发我邮箱{}，谢谢。",
    "联系邮箱：{}",
    "我已经把照片发到{}了。",
]
_PLATE_T = [
    "消防通道长期停着一辆车，车牌{}，多次劝说无效。",
    "{}的车每天晚上堵在单元门口。",
    "小区门口车牌号为{}的白色轿车占用消防通道。",
    "车牌号{}经常在人行道上停放，请交警处理。",
    "一辆{}的电动三轮车天天在楼道里充电。",
]
_DOOR_T = [
    "我住在幸福里小区{}，楼上漏水已经一个月了。",
    "桃源村安置小区{}的住户在楼道飞线充电。",
    "滨江花园{}业主反映，电梯停运三天。",
    "锦绣家园{}天天装修到晚上十点。",
    "临江路88号{}屋顶渗水严重。",
]


def _fill(values: list[str], kind: str, templates: list[str]) -> list[str]:
    return [templates[i % len(templates)].format(f"[[{kind}:{v}]]") for i, v in enumerate(values)]


POSITIVE_CASES: list[str] = (
    _fill(PHONES, "PHONE", _PHONE_T)
    + _fill([to_fullwidth("13812345678")], "PHONE", ["手机{}"])
    + _fill([to_fullwidth("0731-88886666")], "TEL", ["电话{}"])
    + _fill(TELS, "TEL", _TEL_T)
    + _fill(IDS + IDS_X + [i[:-1] + "x" for i in IDS_X[:1]], "IDCARD", _ID_T)
    + _fill([IDS[0][:6] + " " + IDS[0][6:14] + " " + IDS[0][14:]], "IDCARD", ["身份证号：{}"])
    + _fill(
        ["430102900101123", "110105751230004"], "IDCARD", ["老身份证号{}还能用吗？", "身份证：{}（一代证）"]
    )
    + _fill(
        [c if i % 3 == 0 else group4(c) if i % 3 == 1 else group4(c, "-") for i, c in enumerate(CARDS)],
        "BANKCARD",
        _CARD_T,
    )
    + _fill(EMAILS, "EMAIL", _EMAIL_T)
    + _fill(PLATES, "PLATE", _PLATE_T)
    + _fill(DOORS, "DOOR", _DOOR_T)
    + [
        # several kinds in one message
        "您好，我是[[DOOR:3栋2单元501室]]业主，电话[[PHONE:138-1234-5678]]，车牌[[PLATE:湘A·12345]]。",
        f"张某，身份证[[IDCARD:{IDS[1]}]]，联系电话[[PHONE:13973112345]]，邮箱[[EMAIL:zm1975@163.com]]。",
        f"补助请打到[[BANKCARD:{group4(CARDS[0])}]]，有事打[[TEL:0731-84451234]]或[[PHONE:15116271234]]。",
        "2019年5月12日晚，[[PLATE:湘A·F8823]]停在[[DOOR:12号楼3单元402]]门口，面积120平方米的绿地被压坏。",
        "工单号2019022800123已处理，回访电话[[PHONE:186 7310 2345]]。",
        "联系人：刘女士[[PHONE:13607311234]]/[[TEL:0731-82851234]]",
        "[[PHONE:13812345678]]",
        "电话:[[PHONE:13812345678]],[[PHONE:13912345678]]",
    ]
)

NEGATIVE_CASES: list[str] = [
    "2019年2月28日下午，小区停车场又被占满了。",
    "施工时间是20190228到20190315，请监督。",
    "2019-02-28 11:25:05 反映的问题至今没有答复。",
    "2019/2/28 11:25:05 留言，至今未回复。",
    "物业费每年12000元，太贵了。",
    "维修基金¥3,500.00已经交了。",
    "小区改造预算3.5万元，谁出？",
    "工单号2019022800123，已经过去一个月了。",
    "编号 201903150012 的投诉没有下文。",
    "投诉编号：201903150012，请核查。",
    "我家房子120平方米，物业费按面积收。",
    "套内面积89.5㎡，公摊太大。",
    "2019年开始就有这个问题了。",
    "从2018年到2020年一直没解决。",
    "晚上11:25:05还在施工。",
    "邮编410000，地址写清楚了。",
    "根据《物业管理条例》第三十五条和第12条规定。",
    "依据GB50096-2011第6.4.7条，电梯应当设置。",
    "小区共有1200户，3600多人。",
    "停车位只有350个，车有800多辆。",
    "每个车位售价15万元，还要捆绑销售。",
    "去年12月到今年3月暖气一直不热，室温只有16度。",
    "加装电梯需要每户出资3万至8万元不等。",
    "社区有65岁以上老人430人。",
    "订单号20190315123456789，退款还没到。",
    "快递单号 7312345678901 查不到。",
    "合同号HT2019-0032，租期5年。",
    "房产证号第201900123号。",
    "咨询了12345热线和12315，都说不管。",
    "拨打了110和119。",
    "服务热线400-889-3333一直打不通。",
    "24小时客服95588。",
    "第3栋楼下的垃圾桶满了。",
    "小区有12栋楼，300户。",
    "3栋 120平方米的房子漏水。",
    "5号楼前面的路灯坏了。",
    "3单元门口堆满杂物。",
    "一楼的商铺有15家。",
    "房价从8800-9500元/平涨到1.2万。",
    "月工资1100-1300元到现在的1500-1700元。",
    "门诊费500-1000元以上。",
    "学费5000-20000元不等。",
    "每平米2200-2300元。",
    "规划(2016-2020)没有落实。",
    "2015 2016年没有交物业费。",
    "电费0.6元一度，水费3.2元一吨。",
    "共计256,000元的工程款。",
    "车速达到60公里每小时。",
    "噪声达到85分贝，超标。",
    "2023年第3季度投诉量上升25%。",
    "第1期、第2期和第3期都有问题。",
    "7月15日至8月20日期间多次积水。",
    "凌晨2点到5点一直有噪音。",
    "办理时间8:30-17:30。",
    "供暖时间11月15日到3月15日。",
    "小区建成于1998年，已有26年。",
    "身高175cm，体重70kg的老人摔倒了。",
    "温度只有12℃，暖气不热。",
    "排名第18位，得分86.5分。",
    "补贴标准每人每月800元。",
    "2024年1月1日起执行新标准。",
    "道路长1500米，宽12米。",
    "GDP增长6.5%。",
    "公交12路和806路都不停靠。",
    "地铁2号线3号出口。",
    "京港澳高速出口堵车。",
    "湘江边的路灯不亮。",
    "云溪县的桃源村没有公交车。",
    "青山区幸福里社区的停车问题。",
    "新A区的学校不够。",
    "川菜馆油烟扰民。",
    "苏州路口红绿灯时间太短。",
    "ISBN 9787111213826 这本书。",
    "身份证号码忘记了，怎么办？",
    "身份证办理需要15个工作日。",
    "银行卡丢了，补办要10元。",
    "手机号换了，怎么改？",
    "电话打不通。",
    "发了邮件到信箱，没人回。",
    "@物业 请处理一下。",
    "请@街道办 关注。",
    "车牌被人遮挡了。",
    "两年前买的车，3万公里。",
    "2单元和3单元之间的空地。",
    "12层的楼只有一部电梯。",
    "18层高的楼房，住了200户。",
    "第1102次会议决议。",
    "文号湘政发〔2019〕12号。",
    "政府令第645号。",
    "案号(2019)湘0102民初1234号。",
    "发票号码 04400190011112345678 已开。",
    "流水号：62220212345678901234 查询。",
    "批次号 1234567890123456 的疫苗。",
    "受理号：1301234567，请查询。",
    "11月22日凌晨3点打过12345。",
    "一共18975人参加了。",
    "数据显示累计成交额1234567890元。",
    "每年维修费用约300-500万。",
    "坐标112.98,28.19附近。",
    "编号为A0731的井盖坏了。",
    "0731是长沙的区号。",
    "大约1988年建的房子。",
    "室内温度低于18度。",
    "会议室在3楼。",
    "3室2厅的房子，面积120平。",
    "小区有2幢高层。",
    "12栋301户居民签了字。",
    "2019.02.28反映过。",
    "19:30以后禁止施工。",
    "20190228113005这个时间点。",
    "老旧小区改造涉及36栋楼1200户。",
]
