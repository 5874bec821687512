"""Make the deliberately broken input files in this folder (deterministic; rerun to refresh them).

    .venv/bin/python tests/data/bad/make_bad_files.py

Each file has one thing wrong (or, for the "survives" ones, one awkward thing govml must cope with);
tests/data_layer/test_io_bad_files.py asserts the message each one gets.
"""

from __future__ import annotations

import random
from pathlib import Path

HERE = Path(__file__).resolve().parent

HEADER = "id,created_at,district,community,text\n"
GOOD_ROWS = [
    "M001,2024-03-01 08:15:00,芙蓉区,定王台社区,小区门口路灯坏了一个多月，晚上出行很不方便\n",
    "M002,2024-03-02 19:40:12,天心区,坡子街社区,楼上住户半夜装修噪音太大，希望尽快处理\n",
    "M003,2024/3/3 7:05:09,雨花区,侯家塘社区,垃圾清运不及时，夏天气味很重\n",
]


OUT = HERE


def _write(name: str, data: bytes | str, encoding: str = "utf-8") -> None:
    path = OUT / name
    path.write_bytes(data if isinstance(data, bytes) else data.encode(encoding))


def make_xlsx_two_title_rows() -> None:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "工单"
    ws.append(["2024年第一季度12345热线工单汇总表"])
    ws.merge_cells("A1:E1")
    ws.append(["制表单位：某街道办事处", None, None, "制表日期：2024年4月1日"])
    ws.append(["工单编号", "受理时间", "所属区县", "所属社区", "诉求内容"])
    ws.append(["M001", "2024/3/1 8:15:00", "芙蓉区", "定王台社区", "小区门口路灯坏了\n\t\t一个多月"])
    ws.append(["M002", 45353.5, "天心区", "坡子街社区", "楼上装修噪音太大　　希望处理"])
    ws.append(["M003", "2024年3月3日", "雨花区", "侯家塘社区", "垃圾清运不及时"])
    wb.create_sheet("说明").append(["本表由系统导出"])
    wb.save(OUT / "two_title_rows.xlsx")


def main(out: Path = HERE) -> None:
    global OUT
    OUT = Path(out)
    # 1. empty file
    _write("empty.csv", b"")
    # 2. binary garbage (seeded), named .csv
    rng = random.Random(2)
    _write("binary_garbage.csv", bytes(rng.randrange(256) for _ in range(2048)))
    # 3. a GBK file: readable when detected, refused when declared UTF-8 (--encoding utf-8)
    _write("gbk_messages.csv", HEADER + "".join(GOOD_ROWS), encoding="gbk")
    # 4. a required column missing (created_at is named create_time)
    _write("missing_column.csv", HEADER.replace("created_at", "create_time") + "".join(GOOD_ROWS))
    # 5. unparseable dates (rows 3 and 5; row 4 is empty)
    _write("bad_dates.csv", HEADER + GOOD_ROWS[0]
           + "M002,2024-13-45 10:00:00,天心区,坡子街社区,日期不对\n"
           + "M003,,雨花区,侯家塘社区,日期为空\n"
           + "M004,昨天下午,雨花区,侯家塘社区,日期是文字\n")
    # 6. duplicated ids (M001 on rows 2 and 4)
    _write("duplicate_ids.csv", HEADER + GOOD_ROWS[0] + GOOD_ROWS[1] + GOOD_ROWS[0].replace("08:15", "09:15"))
    # 7. a 1 MB text cell (row 3): 1,048,576 bytes of UTF-8 = 349,528 characters
    big = "噪音扰民" * (1_048_576 // 12) + "abcd"
    assert len(big.encode("utf-8")) == 1_048_576
    _write("giant_cell.csv", HEADER + GOOD_ROWS[0] + f"M002,2024-03-02,天心区,坡子街社区,{big}\n" + GOOD_ROWS[2])
    # 8. an XLSX with two title rows above the header
    make_xlsx_two_title_rows()
    # 9. a row with more cells than the header (row 3)
    _write("ragged_row.csv", HEADER + GOOD_ROWS[0] + GOOD_ROWS[1].rstrip("\n") + ",多出来的一格\n" + GOOD_ROWS[2])
    # 10. quoted cells spanning lines: the bad date is on row 4 (file line 7)
    _write("embedded_newlines.csv", HEADER
           + 'M001,2024-03-01,芙蓉区,定王台社区,"第一行\n第二行\n第三行"\n'
           + 'M002,2024-03-02,天心区,坡子街社区,"甲\r\n乙"\n'
           + "M003,not a date,雨花区,侯家塘社区,日期不对\n")
    # 11. a header and no data
    _write("header_only.csv", HEADER)
    # 12. a CSV renamed .xlsx
    _write("not_really.xlsx", HEADER + GOOD_ROWS[0])
    # 13. numbers out of range / not numbers (likes)
    _write("bad_likes.csv", HEADER.replace("text\n", "text,likes\n")
           + GOOD_ROWS[0].rstrip("\n") + ",3\n" + GOOD_ROWS[1].rstrip("\n") + ",-2\n"
           + GOOD_ROWS[2].rstrip("\n") + ",很多\n")
    # 14. a course catalog with broken hours, indicator list and prerequisite
    _write("bad_courses.csv", "course_id,title,hours,cost,indicators,prerequisites\n"
           "C01,矛盾纠纷调解实务,8,200,调解能力:0.8;沟通能力:0.5,\n"
           "C02,社区应急管理,0,100,应急处置:0.9,C01\n"
           "C03,数字化办公,4,-5,信息化能力=高,C99\n")
    # 15. assessments: an unknown area type, a non-numeric score, a repeated worker × period
    _write("bad_assessments.csv", "worker_id,community,district,period,area_type,服务意识,政策水平\n"
           "W001,定王台社区,芙蓉区,2024Q1,城市,82,75\n"
           "W002,坡子街社区,天心区,2024Q1,郊区,90,优秀\n"
           "W001,定王台社区,芙蓉区,2024Q1,urban,80,70\n"
           "W003,侯家塘社区,雨花区,2024Q1,农村,77,68\n"
           "W004,侯家塘社区,雨花区,2024Q1,rural,88,91\n"
           "W005,侯家塘社区,雨花区,2024Q1,rural,85,72\n"
           "W006,侯家塘社区,雨花区,2024Q1,rural,79,66\n"
           "W007,侯家塘社区,雨花区,2024Q1,rural,93,80\n"
           "W008,侯家塘社区,雨花区,2024Q1,rural,71,74\n"
           "W009,侯家塘社区,雨花区,2024Q1,rural,84,83\n"
           "W010,侯家塘社区,雨花区,2024Q1,rural,86,77\n")


if __name__ == "__main__":
    main()
    print("\n".join(sorted(p.name for p in HERE.iterdir() if p.suffix in (".csv", ".xlsx"))))
