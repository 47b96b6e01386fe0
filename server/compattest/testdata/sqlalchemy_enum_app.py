"""An application on SQLAlchemy (psycopg2 underneath) with an Enum column:
create_all makes the type (CREATE TYPE … AS ENUM) and the table, then a
round trip, a value that is no label refused with 22P02, and the
inspector reflecting the column as the enum with its labels. Run twice,
as a first start (which makes the type) and a restart (which finds it).
argv[1] is the database URL."""
import enum
import sys

import psycopg2
from sqlalchemy import Column, Enum, Integer, create_engine, inspect, select, text
from sqlalchemy.exc import DataError
from sqlalchemy.orm import Session, declarative_base

Base = declarative_base()


class Mood(enum.Enum):
    sad = "sad"
    ok = "ok"
    happy = "happy"


class Person(Base):
    __tablename__ = "sa_people"
    id = Column(Integer, primary_key=True)
    mood = Column(Enum(Mood, name="sa_mood"), nullable=False, default=Mood.ok)


engine = create_engine(sys.argv[1], future=True)
Base.metadata.create_all(engine)

with Session(engine) as s:
    s.query(Person).delete()
    s.add_all([Person(mood=Mood.happy), Person()])
    s.commit()
    got = [p.mood for p in s.execute(select(Person).order_by(Person.id)).scalars()]
    assert got == [Mood.happy, Mood.ok], got
    assert len(s.execute(select(Person.id).where(Person.mood == Mood.happy)).all()) == 1

with engine.connect() as c:
    try:
        c.execute(text("INSERT INTO sa_people (mood) VALUES ('bored')"))
        raise AssertionError("a value that is no label was taken")
    except DataError as e:
        assert isinstance(e.orig, psycopg2.errors.InvalidTextRepresentation), e.orig
        assert "invalid input value for enum sa_mood" in str(e.orig), e.orig
    c.rollback()
    assert c.execute(text("SELECT count(*) FROM sa_people")).scalar_one() == 2

cols = {c["name"]: c for c in inspect(engine).get_columns("sa_people")}
mood = cols["mood"]["type"]
assert list(getattr(mood, "enums", [])) == ["sad", "ok", "happy"], (mood, getattr(mood, "enums", None))
assert getattr(mood, "name", None) == "sa_mood", mood
print("ok")
