"""Minutes numbers: one gapless sequence per issuing body and year.

A number is taken in two steps, so that the slow part of issuing (rendering and signing)
can run between them without holding SQLite's write lock: ``peek`` says which number
comes next, and ``take`` uses it only if nobody took it in between.
"""

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from inspection.extensions import db
from inspection.models import MinutesCounter


def peek(issuing_abbr: str, year: int) -> int:
    """The next minutes number of the year for an issuing body, not yet taken.

    On PostgreSQL the counter row stays locked until the transaction ends, so concurrent
    finalizes queue on it instead of rendering the same number twice.
    """
    last = db.session.scalar(
        select(MinutesCounter.last_number)
        .where(MinutesCounter.issuing_abbr == issuing_abbr, MinutesCounter.year == year)
        .with_for_update()
    )
    return (last or 0) + 1


def take(issuing_abbr: str, year: int, number: int) -> bool:
    """Use ``number`` if it is still the next one; False when another finalize took it.

    A number is only used if this transaction commits, so the sequence has no gaps.
    """
    taken = db.session.execute(
        update(MinutesCounter)
        .where(
            MinutesCounter.issuing_abbr == issuing_abbr,
            MinutesCounter.year == year,
            MinutesCounter.last_number == number - 1,
        )
        .values(last_number=number)
    )
    if taken.rowcount == 1 or number != 1:
        return taken.rowcount == 1
    try:
        with db.session.begin_nested():
            db.session.add(MinutesCounter(issuing_abbr=issuing_abbr, year=year, last_number=1))
    except IntegrityError:
        return False  # the year's first finalize raced us
    return True
