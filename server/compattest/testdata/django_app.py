"""An application on Django (Debian's python3-django, psycopg2 underneath)
after `manage.py migrate`: ORM CRUD, a query through a foreign key,
transaction.atomic rolling back and committing, an IntegrityError on a
duplicate unique value, and inspectdb reading the model's table back.
Run on a first start and on a restart. argv[1] is the project directory."""
import io
import os
import sys
import datetime

sys.path.insert(0, sys.argv[1])
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "djproj.settings")

import django

django.setup()

from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone

from djapp.models import Author, Book

Book.objects.all().delete()
Author.objects.all().delete()

# create
before = timezone.now()
le_guin = Author.objects.create(name="le guin")
banks = Author.objects.create(name="banks")
b1 = Book.objects.create(author=le_guin, title="the dispossessed", isbn="9780060512750",
                         meta={"pages": 387, "tags": ["anarchy", "physics"]})
Book.objects.create(author=le_guin, title="the lathe of heaven", isbn="9781416556961", in_print=False)
Book.objects.create(author=banks, title="excession", isbn="9780553575378")

# read back: the auto_now_add timestamp, the boolean default, the JSON
got = Book.objects.get(pk=b1.pk)
assert got.added.tzinfo is not None, got.added
assert before - datetime.timedelta(minutes=5) <= got.added <= timezone.now() + datetime.timedelta(minutes=5), (before, got.added)
assert got.added == b1.added, (got.added, b1.added)
assert got.in_print is True, got.in_print
assert got.meta == {"pages": 387, "tags": ["anarchy", "physics"]}, got.meta
assert got.author.name == "le guin", got.author.name

# filter, and a query through the foreign key (a join)
assert Book.objects.filter(in_print=True).count() == 2
titles = sorted(Book.objects.filter(author__name="le guin").values_list("title", flat=True))
assert titles == ["the dispossessed", "the lathe of heaven"], titles
assert sorted(b.title for b in le_guin.books.all()) == titles
assert list(Author.objects.filter(books__isbn="9780553575378").values_list("name", flat=True)) == ["banks"]
assert Book.objects.filter(meta__pages=387).count() == 1

# update, one row and in bulk
got.title = "the dispossessed: an ambiguous utopia"
got.save()
assert Book.objects.get(isbn="9780060512750").title == "the dispossessed: an ambiguous utopia"
assert Book.objects.filter(author=le_guin).update(in_print=True) == 2
assert Book.objects.filter(in_print=False).count() == 0

# delete, with the cascade through the foreign key
assert Book.objects.filter(isbn="9781416556961").delete()[0] == 1
banks.delete()
assert Book.objects.count() == 1, Book.objects.count()
assert Author.objects.count() == 1


class Boom(Exception):
    pass


# an atomic block that raises rolls back
try:
    with transaction.atomic():
        Author.objects.create(name="tiptree")
        Book.objects.filter(isbn="9780060512750").update(title="changed")
        raise Boom()
except Boom:
    pass
assert not Author.objects.filter(name="tiptree").exists()
assert Book.objects.get(isbn="9780060512750").title == "the dispossessed: an ambiguous utopia"

# one that ends commits, a savepoint inside it included
with transaction.atomic():
    tiptree = Author.objects.create(name="tiptree")
    Book.objects.create(author=tiptree, title="her smoke rose up forever", isbn="9781892391155")
    try:
        with transaction.atomic():
            Book.objects.create(author=tiptree, title="inner", isbn="0000000000000")
            raise Boom()
    except Boom:
        pass
assert Author.objects.filter(name="tiptree").exists()
assert Book.objects.filter(author__name="tiptree").count() == 1

# a duplicate unique value: IntegrityError, and the connection goes on
try:
    with transaction.atomic():
        Book.objects.create(author=tiptree, title="again", isbn="9781892391155")
except IntegrityError as e:
    print("duplicate isbn refused:", e.__cause__.pgcode, str(e).splitlines()[0])
    assert e.__cause__.pgcode == "23505", e.__cause__.pgcode
else:
    raise AssertionError("a duplicate isbn was accepted")
assert Book.objects.filter(isbn="9781892391155").count() == 1

# inspectdb reads the table back with the model's field kinds
out = io.StringIO()
call_command("inspectdb", "djapp_book", stdout=out)
src = out.getvalue()
print(src)
want = [
    "class DjappBook(models.Model):",
    "id = models.BigAutoField(primary_key=True)",
    "author = models.ForeignKey('DjappAuthor', models.DO_NOTHING)",
    "title = models.CharField(max_length=200)",
    "isbn = models.CharField(unique=True, max_length=13)",
    "added = models.DateTimeField()",
    "in_print = models.BooleanField()",
    "meta = models.JSONField()",
    "db_table = 'djapp_book'",
]
missing = [w for w in want if w not in src]
assert not missing, missing
print("ok")
