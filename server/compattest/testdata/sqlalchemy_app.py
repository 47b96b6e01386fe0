"""An application on SQLAlchemy (Debian's python3-sqlalchemy, psycopg2
underneath) starting: create_all, then CRUD and inspector reflection.
Run twice, as a first start and a restart. argv[1] is the database URL."""
import sys
import datetime

from sqlalchemy import (Boolean, Column, DateTime, ForeignKey, Integer,
                        Numeric, String, create_engine, inspect, select)
from sqlalchemy.orm import Session, declarative_base, relationship

Base = declarative_base()


class Author(Base):
    __tablename__ = "sa_authors"
    id = Column(Integer, primary_key=True)
    name = Column(String(80), nullable=False, unique=True)
    active = Column(Boolean, default=True)
    joined = Column(DateTime, default=datetime.datetime(2024, 1, 2, 3, 4, 5))
    books = relationship("Book", back_populates="author")


class Book(Base):
    __tablename__ = "sa_books"
    id = Column(Integer, primary_key=True)
    author_id = Column(Integer, ForeignKey("sa_authors.id"), nullable=False, index=True)
    title = Column(String(200), nullable=False)
    price = Column(Numeric(8, 2))
    author = relationship("Author", back_populates="books")


engine = create_engine(sys.argv[1], future=True)
Base.metadata.create_all(engine)

with Session(engine) as s:
    s.query(Book).delete()
    s.query(Author).delete()
    a = Author(name="le guin")
    a.books = [Book(title="the dispossessed", price=9.5), Book(title="the lathe of heaven")]
    s.add(a)
    s.commit()
    got = s.execute(select(Author).where(Author.name == "le guin")).scalar_one()
    assert got.active is True, got.active
    assert got.joined == datetime.datetime(2024, 1, 2, 3, 4, 5), got.joined
    assert sorted(b.title for b in got.books) == ["the dispossessed", "the lathe of heaven"]
    got.name = "ursula k. le guin"
    s.commit()
    assert s.execute(select(Author.name)).scalar_one() == "ursula k. le guin"
    s.delete(got.books[0])
    s.commit()
    assert s.query(Book).count() == 1

insp = inspect(engine)
tables = set(insp.get_table_names())
assert {"sa_authors", "sa_books"} <= tables, tables
cols = {c["name"] for c in insp.get_columns("sa_books")}
assert cols == {"id", "author_id", "title", "price"}, cols
assert insp.get_pk_constraint("sa_books")["constrained_columns"] == ["id"]
fks = insp.get_foreign_keys("sa_books")
assert [f["referred_table"] for f in fks] == ["sa_authors"], fks
idx = {i["name"] for i in insp.get_indexes("sa_books")}
assert "ix_sa_books_author_id" in idx, idx
print("ok")
