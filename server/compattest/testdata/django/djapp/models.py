from django.db import models


class Author(models.Model):
    name = models.CharField(max_length=80)


class Book(models.Model):
    author = models.ForeignKey(Author, on_delete=models.CASCADE, related_name="books")
    title = models.CharField(max_length=200)
    isbn = models.CharField(max_length=13, unique=True)
    added = models.DateTimeField(auto_now_add=True)
    in_print = models.BooleanField(default=True)
    meta = models.JSONField(default=dict)
