"""psycopg 3 (Debian's python3-psycopg) in its default mode: not
autocommit, so every statement runs in a transaction the driver opens;
server-side parameters; prepared statements after a few executions;
a rollback. argv[1] is the connection string."""
import sys

import psycopg

with psycopg.connect(sys.argv[1]) as conn:
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE IF NOT EXISTS pg3_items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, qty INTEGER)")
        cur.execute("DELETE FROM pg3_items")
    conn.commit()
    with conn.cursor() as cur:
        for i in range(10):
            cur.execute("INSERT INTO pg3_items (id, name, qty) VALUES (%s, %s, %s)", (i, "item %d" % i, i * 10))
    conn.commit()
    with conn.cursor() as cur:
        cur.execute("UPDATE pg3_items SET qty = qty + 1 WHERE id = %s", (3,))
        assert cur.rowcount == 1, cur.rowcount
    conn.rollback()
    with conn.cursor() as cur:
        for i in range(10):
            cur.execute("SELECT name, qty FROM pg3_items WHERE id = %s", (i,))
            assert cur.fetchone() == ("item %d" % i, i * 10)
        cur.execute("SELECT count(*) FROM pg3_items")
        assert cur.fetchone()[0] == 10
    conn.commit()
    with conn.transaction():
        conn.execute("DELETE FROM pg3_items WHERE id >= %s", (5,))
    assert conn.execute("SELECT count(*) FROM pg3_items").fetchone()[0] == 5
print("ok")
