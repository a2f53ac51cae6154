"""Minutes numbers: one gapless sequence per issuing body and year."""

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from inspection.extensions import db
from inspection.models import (
    MinutesCounter,
)


def next_number(issuing_abbr: str, year: int) -> int:
    """Take the next minutes number of the year for an issuing body.

    The counter row is updated in place, so concurrent finalizes queue on its lock and
    never share a number; a number is only used if its transaction commits.
    """
    number = db.session.execute(
        update(MinutesCounter)
        .where(MinutesCounter.issuing_abbr == issuing_abbr, MinutesCounter.year == year)
        .values(last_number=MinutesCounter.last_number + 1)
        .returning(MinutesCounter.last_number)
    ).scalar()
    if number is not None:
        return number
    try:
        with db.session.begin_nested():
            db.session.add(MinutesCounter(issuing_abbr=issuing_abbr, year=year, last_number=1))
    except IntegrityError:
        return next_number(issuing_abbr, year)  # the year's first finalize raced us
    return 1
