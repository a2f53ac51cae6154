"""Small factories for test data; each flushes and returns the object."""

import itertools
import uuid

from sqlalchemy import select

from inspection.extensions import db
from inspection.models import (
    Inspection,
    InspectionKind,
    InspectionStatus,
    Role,
    StaffCategory,
    StaffMember,
    TeamMember,
    TeamRole,
    Unit,
    UnitKind,
    User,
    utcnow,
)
from inspection.services import accounts, checklist

_seq = itertools.count(1)


def unit(**kw) -> Unit:
    n = next(_seq)
    obj = Unit(code=kw.pop("code", f"U{n}"), name=kw.pop("name", f"Đơn vị {n}"), **kw)
    obj.kind = obj.kind or UnitKind.COMMUNE
    db.session.add(obj)
    db.session.flush()
    return obj


def staff(unit: Unit, **kw) -> StaffMember:
    n = next(_seq)
    kw.setdefault("full_name", f"Nguyễn Văn Thử {n}")
    kw.setdefault("category", StaffCategory.CONG_CHUC)
    obj = StaffMember(unit_id=unit.id, **kw)
    db.session.add(obj)
    db.session.flush()
    return obj


def user(role: Role = Role.INSPECTOR, unit: Unit | None = None, **kw) -> User:
    n = next(_seq)
    obj = User(
        username=kw.pop("username", f"user{n}"),
        full_name=kw.pop("full_name", f"Người dùng {n}"),
        password_hash=accounts.hash_password(kw.pop("password", "matkhau2018x")),
        role=role,
        unit_id=unit.id if unit else None,
        **kw,
    )
    db.session.add(obj)
    db.session.flush()
    return obj


def demo_user(username: str) -> User:
    return db.session.scalar(select(User).filter_by(username=username))


def inspection(unit: Unit, creator: User, **kw) -> Inspection:
    kw.setdefault("kind", InspectionKind.SURPRISE)
    kw.setdefault("status", InspectionStatus.DRAFT)
    kw.setdefault("started_at", utcnow())
    obj = Inspection(
        unit_id=unit.id,
        created_by_id=creator.id,
        client_id=kw.pop("client_id", str(uuid.uuid4())),
        **kw,
    )
    checklist.assign(obj, unit)
    obj.team.append(TeamMember(user_id=creator.id, role=TeamRole.LEAD))
    db.session.add(obj)
    db.session.flush()
    return obj
