package catalog

import "testing"

// TestDeclaredConstraintNames: pg_constraint and pg_indexes give a
// constraint the name its CREATE TABLE gave it, as a column constraint or
// a table constraint, and Postgres' made-up name to one declared without.
func TestDeclaredConstraintNames(t *testing.T) {
	db := openFixture(t)
	for _, s := range []string{
		`CREATE TABLE "named_a" ("id" INTEGER CONSTRAINT "PK_a" PRIMARY KEY AUTOINCREMENT, "name" varchar(80) NOT NULL,
			"code" text CONSTRAINT code_uq UNIQUE, x int, y int, CONSTRAINT "UQ_b834" UNIQUE ("name"), UNIQUE (x, y))`,
		`CREATE TABLE named_b (id INTEGER PRIMARY KEY, "authorId" integer, other int CONSTRAINT "FK_col" REFERENCES named_a (id),
			CONSTRAINT "FK_870a" FOREIGN KEY ("authorId") REFERENCES "named_a"("id") ON DELETE CASCADE)`,
	} {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	got, err := query(t, db, `SELECT c.conname, c.contype FROM pg_constraint c JOIN pg_class r ON r.oid = c.conrelid
		WHERE r.relname IN ('named_a', 'named_b') ORDER BY r.relname, c.conname`)
	if err != nil {
		t.Fatal(err)
	}
	want := "PK_a | p\nUQ_b834 | u\ncode_uq | u\nnamed_a_x_y_key | u\nFK_870a | f\nFK_col | f\nnamed_b_pkey | p\n"
	if got != want {
		t.Errorf("pg_constraint:\n%s\nwant:\n%s", got, want)
	}
}

// TestRailsColumns: what ActiveRecord reads of a table — its primary key
// by generate_subscripts over pg_index.indkey, a vector whose subscripts
// start at 0, and a boolean default as Postgres shows it.
func TestRailsColumns(t *testing.T) {
	db := openFixture(t)
	if _, err := db.Exec(`CREATE TABLE ar_c (id INTEGER PRIMARY KEY AUTOINCREMENT, name varchar NOT NULL, vip boolean DEFAULT FALSE)`); err != nil {
		t.Fatal(err)
	}
	got, err := query(t, db, `SELECT a.attname FROM (SELECT indrelid, indkey, generate_subscripts(indkey, 1) idx FROM pg_index
		WHERE indrelid = '"ar_c"'::regclass AND indisprimary) i
		JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[i.idx] ORDER BY i.idx`)
	if err != nil || got != "id\n" {
		t.Errorf("primary key: %q, %v; want id", got, err)
	}
	got, err = query(t, db, `SELECT pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a JOIN pg_attrdef d ON a.attrelid = d.adrelid AND a.attnum = d.adnum
		WHERE a.attrelid = 'ar_c'::regclass AND a.attname = 'vip'`)
	if err != nil || got != "false\n" {
		t.Errorf("default: %q, %v; want false", got, err)
	}
}

// TestDjangoConstraints: Django's introspection of constraints and indexes
// — unnest WITH ORDINALITY over an outer query's array, unnest of two
// vectors beside the relation they come from (a lateral call, which SQLite
// has no word for), ARRAY(subquery) and array_agg typed as arrays.
func TestDjangoConstraints(t *testing.T) {
	db := openFixture(t)
	q := `SELECT c.conname, array(SELECT attname FROM unnest(c.conkey) WITH ORDINALITY cols(colid, arridx)
			JOIN pg_attribute AS ca ON cols.colid = ca.attnum WHERE ca.attrelid = c.conrelid ORDER BY cols.arridx), c.contype
		FROM pg_constraint AS c JOIN pg_class AS cl ON c.conrelid = cl.oid WHERE cl.relname = 'pair' ORDER BY 1`
	got, err := query(t, db, q)
	if want := "pair_pkey | {a,b} | p\n"; err != nil || got != want {
		t.Errorf("constraints: %q, %v; want %q", got, err, want)
	}
	_, _, types, err := RewriteTyped(q, testEnv)
	if err != nil || types["array"] != "_NAME" {
		t.Errorf("ARRAY(SELECT attname …) typed %q, %v; want _NAME", types["array"], err)
	}
	q = `SELECT indexname, array_agg(attname ORDER BY arridx), array_agg(option ORDER BY arridx) FROM (
			SELECT c2.relname AS indexname, idx.*, attr.attname FROM (
				SELECT * FROM pg_index i, unnest(i.indkey, i.indoption) WITH ORDINALITY koi(key, option, arridx)) idx
			LEFT JOIN pg_class c ON idx.indrelid = c.oid LEFT JOIN pg_class c2 ON idx.indexrelid = c2.oid
			LEFT JOIN pg_attribute attr ON attr.attrelid = c.oid AND attr.attnum = idx.key
			WHERE c.relname = 'pair') s2 GROUP BY indexname`
	got, err = query(t, db, q)
	if want := "pair_pkey | {a,b} | {0,0}\n"; err != nil || got != want {
		t.Errorf("indexes: %q, %v; want %q", got, err, want)
	}
}
