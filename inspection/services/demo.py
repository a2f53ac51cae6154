"""The demo organisation: the 2018 Bình Xuyên story (DOMAIN.md). Safe to run twice."""

import json
import logging
import random
from importlib import resources

from sqlalchemy import select

from inspection.extensions import db
from inspection.models import Role, StaffCategory, StaffMember, Unit, UnitKind, User
from inspection.services import accounts, audit, checklist, org

log = logging.getLogger(__name__)

DEMO_PASSWORD = "kiemtra2018"

SETTINGS = {
    "org_name": "Ủy ban nhân dân huyện Bình Xuyên",
    "parent_body": "UBND HUYỆN BÌNH XUYÊN",
    "issuing_body": "ĐOÀN KIỂM TRA CÔNG VỤ",
    "issuing_abbr": "ĐKT",
    "office_name": "Phòng Nội vụ",
    "place_name": "Bình Xuyên",
    # Invented decision numbers: demo data only.
    "legal_basis": (
        "Quyết định số 125/QĐ-UBND ngày 15/01/2018 của Ủy ban nhân dân huyện Bình Xuyên"
        " về việc thành lập Đoàn kiểm tra công vụ năm 2018; Kế hoạch số 08/KH-ĐKT ngày"
        " 22/01/2018 của Đoàn kiểm tra công vụ huyện về kiểm tra việc thực hiện kỷ luật,"
        " kỷ cương hành chính năm 2018."
    ),
}

CB, CC, VC, HD = (
    StaffCategory.CAN_BO,
    StaffCategory.CONG_CHUC,
    StaffCategory.VIEN_CHUC,
    StaffCategory.HOP_DONG,
)
# Bình Xuyên's one-stop desks in 2018: the district's public administration centre, and
# the desk of every commune and town (bộ phận tiếp nhận và trả kết quả).
WITH_ONE_STOP_DESK = {UnitKind.ADMIN_CENTRE, UnitKind.COMMUNE, UnitKind.TOWN}

# Leading positions of each kind of unit, then the position that fills the rest of the roster.
POSITIONS = {
    UnitKind.DEPARTMENT: ([("Trưởng phòng", CC), ("Phó Trưởng phòng", CC)], ("Chuyên viên", CC)),
    UnitKind.ADMIN_CENTRE: (
        [("Giám đốc", CC), ("Phó Giám đốc", CC), ("Kế toán", VC)],
        ("Chuyên viên tiếp nhận và trả kết quả", CC),
    ),
    UnitKind.COMMUNE: (
        [
            ("Bí thư Đảng ủy", CB),
            ("Chủ tịch Ủy ban nhân dân", CB),
            ("Phó Chủ tịch Ủy ban nhân dân", CB),
            ("Công chức Văn phòng - Thống kê", CC),
            ("Công chức Tư pháp - Hộ tịch", CC),
            ("Công chức Địa chính - Xây dựng", CC),
            ("Công chức Tài chính - Kế toán", CC),
            ("Công chức Văn hóa - Xã hội", CC),
            ("Chỉ huy trưởng Ban Chỉ huy Quân sự", CC),
        ],
        ("Cán bộ chuyên trách", CB),
    ),
    UnitKind.SCHOOL: (
        [("Hiệu trưởng", VC), ("Phó Hiệu trưởng", VC), ("Kế toán", VC), ("Nhân viên y tế", VC)],
        ("Giáo viên", VC),
    ),
    UnitKind.OTHER: ([("Giám đốc", VC), ("Phó Giám đốc", VC)], ("Viên chức", VC)),
}
POSITIONS[UnitKind.TOWN] = POSITIONS[UnitKind.COMMUNE]
CONTRACT_POSITIONS = ["Nhân viên bảo vệ", "Nhân viên phục vụ", "Lái xe"]

UNITS = [
    ("PNV", "Phòng Nội vụ", UnitKind.DEPARTMENT, 8, "Thị trấn Hương Canh"),
    ("PTCKH", "Phòng Tài chính - Kế hoạch", UnitKind.DEPARTMENT, 11, "Thị trấn Hương Canh"),
    ("PTNMT", "Phòng Tài nguyên và Môi trường", UnitKind.DEPARTMENT, 13, "Thị trấn Hương Canh"),
    ("TTHCC", "Trung tâm Hành chính công huyện", UnitKind.ADMIN_CENTRE, 30, "Thị trấn Hương Canh"),
    ("XHS", "Ủy ban nhân dân xã Hương Sơn", UnitKind.COMMUNE, 24, "Xã Hương Sơn"),
    ("XTH", "Ủy ban nhân dân xã Tam Hợp", UnitKind.COMMUNE, 20, "Xã Tam Hợp"),
    ("XQL", "Ủy ban nhân dân xã Quất Lưu", UnitKind.COMMUNE, 18, "Xã Quất Lưu"),
    ("TTHC", "Ủy ban nhân dân thị trấn Hương Canh", UnitKind.TOWN, 40, "Thị trấn Hương Canh"),
    ("TTGK", "Ủy ban nhân dân thị trấn Gia Khánh", UnitKind.TOWN, 22, "Thị trấn Gia Khánh"),
    ("THCSHC", "Trường Trung học cơ sở Hương Canh", UnitKind.SCHOOL, 35, "Thị trấn Hương Canh"),
    ("THBH", "Trường Tiểu học Bá Hiến A", UnitKind.SCHOOL, 16, "Xã Bá Hiến"),
    (
        "TTVH",
        "Trung tâm Văn hóa - Thông tin và Thể thao huyện",
        UnitKind.OTHER,
        9,
        "Thị trấn Hương Canh",
    ),
]

USERS = [
    ("admin", "Quản trị hệ thống", Role.ADMIN, None, "Quản trị viên"),
    ("noivu", "Trần Thị Thu Hà", Role.OFFICE, None, "Phó Trưởng phòng Nội vụ"),
    ("truongdoan", "Nguyễn Văn Hùng", Role.INSPECTOR, None, "Trưởng phòng Nội vụ"),
    ("thanhvien", "Lê Minh Tuấn", Role.INSPECTOR, None, "Chuyên viên Phòng Nội vụ"),
    ("thuky", "Phạm Thị Lan", Role.INSPECTOR, None, "Chuyên viên Phòng Nội vụ"),
    ("donvi1", "Đỗ Quang Minh", Role.UNIT, "TTHCC", "Giám đốc"),
    ("donvi2", "Khổng Văn Thắng", Role.UNIT, "XHS", "Chủ tịch Ủy ban nhân dân xã"),
]

FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Vũ",
    "Đỗ",
    "Bùi",
    "Đặng",
    "Ngô",
    "Dương",
    "Phan",
    "Đinh",
    "Hà",
    "Trịnh",
    "Lưu",
    "Tạ",
    "Khổng",
]
MIDDLE_M = ["Văn", "Đức", "Minh", "Quang", "Hữu", "Xuân", "Thanh", "Ngọc", "Đình", "Công", "Tiến"]
MIDDLE_F = ["Thị", "Thu", "Ngọc", "Thanh", "Minh", "Hồng", "Kim", "Phương"]
GIVEN_M = [
    "Hùng",
    "Dũng",
    "Tuấn",
    "Nam",
    "Long",
    "Hải",
    "Sơn",
    "Thắng",
    "Quân",
    "Cường",
    "Hiếu",
    "Trung",
    "Phong",
    "Khánh",
    "Tùng",
    "Đạt",
]
GIVEN_F = [
    "Hương",
    "Lan",
    "Hoa",
    "Mai",
    "Hằng",
    "Thảo",
    "Nga",
    "Linh",
    "Trang",
    "Yến",
    "Huyền",
    "Phương",
    "Dung",
    "Loan",
    "Nhung",
    "Thủy",
]


def _name(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_M)} {rng.choice(GIVEN_M)}"
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE_F)} {rng.choice(GIVEN_F)}"


def _roster(code: str, kind: UnitKind, size: int) -> list[dict]:
    """Return a repeatable roster of ``size`` people for a unit."""
    rng = random.Random(code)  # str seeds are stable across runs and machines
    leaders, (filler, filler_category) = POSITIONS[kind]
    contracts = max(1, size // 8)
    positions = leaders[: size - contracts]
    positions += [(filler, filler_category)] * (size - contracts - len(positions))
    positions += [(rng.choice(CONTRACT_POSITIONS), HD) for _ in range(contracts)]
    return [
        {
            "full_name": _name(rng),
            "position": position,
            "category": category,
            # Contract workers often have no badge number.
            "badge_no": None if category is HD else f"{code}-{n:03d}",
        }
        for n, (position, category) in enumerate(positions, 1)
    ]


def default_checklists() -> list[dict]:
    """Return the demo's checklist templates as plain data: the checklist of DOMAIN.md for
    every unit, its one-stop items for units with a desk, and one for schools."""
    data = resources.files("inspection").joinpath("data/checklists.json").read_text("utf-8")
    return json.loads(data)["templates"]


def seed(actor: audit.Actor = audit.SYSTEM) -> dict:
    """Create whatever part of the demo organisation is missing; return what was created."""
    created = {"settings": 0, "units": 0, "staff": 0, "users": 0, "checklists": 0}
    if org.get_settings() is None:
        org.save_settings(actor, **SETTINGS)
        created["settings"] = 1

    units = {}
    for code, name, kind, size, address in UNITS:
        unit = db.session.scalar(select(Unit).filter_by(code=code))
        if unit is None:
            unit = org.save_unit(
                actor,
                None,
                code=code,
                name=name,
                kind=kind,
                address=address,
                has_one_stop=kind in WITH_ONE_STOP_DESK,
            )
            created["units"] += 1
        units[code] = unit
        if not db.session.scalar(select(StaffMember.id).filter_by(unit_id=unit.id).limit(1)):
            for person in _roster(code, kind, size):
                db.session.add(StaffMember(unit_id=unit.id, **person))
                created["staff"] += 1

    for username, full_name, role, unit_code, position in USERS:
        if db.session.scalar(select(User.id).filter_by(username=username)) is None:
            accounts.create_user(
                actor,
                username=username,
                full_name=full_name,
                password=DEMO_PASSWORD,
                role=role,
                unit_id=units[unit_code].id if unit_code else None,
                position=position,
                email=f"{username}@binhxuyen.example",  # RFC 2606: a name for examples
            )
            created["users"] += 1

    if checklist.default_template() is None:
        for data in default_checklists():
            checklist.create_template(
                actor,
                data["code"],
                data["name"],
                data["items"],
                data["applies_to"],
                data["name_en"],
            )
            created["checklists"] += 1
    db.session.flush()
    log.info("demo seed: %s", created)
    return created
