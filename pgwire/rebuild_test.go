package pgwire

import (
	"strings"
	"testing"
)

// TestRebuild: ALTER TABLE actions in, the statements of the rebuild out,
// from the definition sqlite_schema holds.
func TestRebuild(t *testing.T) {
	const create = `CREATE TABLE "orders" (id INTEGER PRIMARY KEY, customer_id integer NOT NULL DEFAULT 0, total numeric(10,2) CONSTRAINT pos CHECK (total >= 0), note varchar(20) REFERENCES notes (id) ON DELETE SET NULL, UNIQUE (note))`
	for _, tt := range []struct{ alter, want string }{
		{"ALTER TABLE ONLY public.orders ADD CONSTRAINT orders_customer_fkey FOREIGN KEY (customer_id) REFERENCES customers(id)",
			`CREATE TABLE "orders" (id INTEGER PRIMARY KEY, customer_id integer NOT NULL DEFAULT 0, total numeric(10,2) CONSTRAINT pos CHECK (total >= 0), note varchar(20) REFERENCES notes (id) ON DELETE SET NULL, UNIQUE (note), CONSTRAINT orders_customer_fkey FOREIGN KEY (customer_id) REFERENCES customers(id))` +
				`|id, customer_id, total, note|id, customer_id, total, note`},
		{"alter table orders add check (total < 1000) not valid",
			`CREATE TABLE "orders" (id INTEGER PRIMARY KEY, customer_id integer NOT NULL DEFAULT 0, total numeric(10,2) CONSTRAINT pos CHECK (total >= 0), note varchar(20) REFERENCES notes (id) ON DELETE SET NULL, UNIQUE (note), check (total < 1000))` +
				`|id, customer_id, total, note|id, customer_id, total, note`},
		{"ALTER TABLE orders ALTER COLUMN customer_id TYPE bigint USING customer_id * 2, ALTER note DROP NOT NULL",
			`CREATE TABLE "orders" (id INTEGER PRIMARY KEY, customer_id bigint NOT NULL DEFAULT 0, total numeric(10,2) CONSTRAINT pos CHECK (total >= 0), note varchar(20) REFERENCES notes (id) ON DELETE SET NULL, UNIQUE (note))` +
				`|id, customer_id, total, note|id, (customer_id * 2), total, note`},
		{"ALTER TABLE orders ALTER COLUMN customer_id DROP DEFAULT, ALTER COLUMN customer_id DROP NOT NULL",
			`CREATE TABLE "orders" (id INTEGER PRIMARY KEY, customer_id integer, total numeric(10,2) CONSTRAINT pos CHECK (total >= 0), note varchar(20) REFERENCES notes (id) ON DELETE SET NULL, UNIQUE (note))` +
				`|id, customer_id, total, note|id, customer_id, total, note`},
		{"ALTER TABLE orders ALTER COLUMN note SET NOT NULL, ALTER COLUMN total SET DEFAULT 1.5, alter column total set data type real",
			`CREATE TABLE "orders" (id INTEGER PRIMARY KEY, customer_id integer NOT NULL DEFAULT 0, total real CONSTRAINT pos CHECK (total >= 0) DEFAULT (1.5), note varchar(20) REFERENCES notes (id) ON DELETE SET NULL NOT NULL, UNIQUE (note))` +
				`|id, customer_id, total, note|id, customer_id, total, note`},
	} {
		tr, ok := translateDDL(tt.alter)
		if !ok || tr.rebuild == nil {
			t.Errorf("%s: no rebuild (%+v)", tt.alter, tr)
			continue
		}
		got, cols, exprs, e := applyRebuild(create, tr.rebuild)
		if e != nil {
			t.Errorf("%s: %v", tt.alter, e)
			continue
		}
		if s := got + "|" + strings.Join(cols, ", ") + "|" + strings.Join(exprs, ", "); s != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.alter, s, tt.want)
		}
	}
	tr, _ := translateDDL("ALTER TABLE orders ALTER COLUMN nope SET NOT NULL")
	if _, _, _, e := applyRebuild(create, tr.rebuild); e == nil || e.Code != "42703" {
		t.Errorf("a column that does not exist: %v", e)
	}
	// A DEFAULT of nextval() of the sequence a serial of the column would
	// have (pg_dump's) makes the column a serial: the rowid alias unless
	// another column is the key.
	for _, tt := range []struct {
		create, alter, want string
		rowid               bool
	}{
		{`CREATE TABLE dump (id integer NOT NULL, name varchar(50) NOT NULL)`,
			"ALTER TABLE ONLY public.dump ALTER COLUMN id SET DEFAULT nextval('public.dump_id_seq'::regclass)",
			`CREATE TABLE dump (id INTEGER PRIMARY KEY AUTOINCREMENT, name varchar(50) NOT NULL)|id, name`, true},
		{`CREATE TABLE "Dump" (ID bigint DEFAULT 0 NOT NULL CHECK (ID > 0), CONSTRAINT dump_pkey PRIMARY KEY (id))`,
			`alter table "Dump" alter id set default pg_catalog.nextval('"Dump_id_seq"')`,
			`CREATE TABLE "Dump" (ID INTEGER PRIMARY KEY AUTOINCREMENT CHECK (ID > 0))|ID`, true},
		{`CREATE TABLE k (code text PRIMARY KEY, n integer NOT NULL, v text)`,
			"ALTER TABLE k ALTER COLUMN n SET DEFAULT nextval('k_n_seq'::regclass)",
			`CREATE TABLE k (code text PRIMARY KEY, n integer, v text)|code, n, v`, false},
		{`CREATE TABLE k (code text NOT NULL, n integer, v text)`,
			"ALTER TABLE k ALTER COLUMN n SET DEFAULT nextval('k_n_seq'::regclass)",
			`CREATE TABLE k (code text NOT NULL, n integer, v text)|code, n, v`, false},
		{`CREATE TABLE k (a int, b int, PRIMARY KEY (a, b))`,
			"ALTER TABLE k ALTER COLUMN b SET DEFAULT nextval('k_b_seq')",
			`CREATE TABLE k (a int, b int, PRIMARY KEY (a, b))|a, b`, false},
	} {
		tr, ok := translateDDL(tt.alter)
		if !ok || tr.rebuild == nil || tr.rebuild.actions[0].kind != alterSerial {
			t.Errorf("%s: not a serial's rebuild (%+v)", tt.alter, tr)
			continue
		}
		got, cols, _, e := applyRebuild(tt.create, tr.rebuild)
		if s := got + "|" + strings.Join(cols, ", "); e != nil || s != tt.want || tr.rebuild.serialRowid != tt.rowid {
			t.Errorf("%s:\n got %s (%v, rowid %v)\nwant %s (rowid %v)", tt.alter, s, e, tr.rebuild.serialRowid, tt.want, tt.rowid)
		}
	}
	for _, alter := range []string{
		"ALTER TABLE ONLY public.orders ALTER COLUMN id SET DEFAULT nextval('public.other_seq'::regclass)",
		"ALTER TABLE orders ALTER COLUMN note SET DEFAULT nextval('orders_note_seq')",
		"ALTER TABLE orders ALTER COLUMN id SET DEFAULT nextval('orders_id_seq') + 1",
	} {
		seq, _ := translateDDL(alter)
		if _, _, _, e := applyRebuild(create, seq.rebuild); e == nil || e.Code != "0A000" {
			t.Errorf("%s: %v, want 0A000", alter, e)
		}
	}
	stmts, e := rebuildStatements(tr.rebuild, `CREATE TABLE orders (nope int)`, []string{"CREATE INDEX i ON orders (nope)"})
	want := []string{
		`CREATE TABLE "orders__raftsql_rebuild" AS SELECT * FROM "orders"`,
		`DROP TABLE "orders"`,
		`CREATE TABLE orders (nope int NOT NULL)`,
		`INSERT INTO "orders" (nope) SELECT nope FROM "orders__raftsql_rebuild"`,
		`DROP TABLE "orders__raftsql_rebuild"`,
		`CREATE INDEX i ON orders (nope)`,
	}
	if e != nil || strings.Join(stmts, "\n") != strings.Join(want, "\n") {
		t.Errorf("rebuild statements (%v):\n%s\nwant\n%s", e, strings.Join(stmts, "\n"), strings.Join(want, "\n"))
	}
	for _, sql := range []string{
		"ALTER TABLE t ADD COLUMN c int", "ALTER TABLE t RENAME TO u", "ALTER TABLE t ALTER COLUMN c SET STATISTICS 5",
		"ALTER TABLE t ALTER COLUMN c TYPE", "ALTER TABLE t ADD CONSTRAINT x EXCLUDE (a WITH =)", "ALTER TABLE t ALTER c TYPE int, RENAME TO u",
	} {
		if tr, ok := translateDDL(sql); ok && tr.rebuild != nil {
			t.Errorf("%s: rebuilt as %+v", sql, tr.rebuild)
		}
	}
}

func FuzzApplyRebuild(f *testing.F) {
	f.Add("CREATE TABLE t (a int not null default 1, b text, check (a > 0))", "ALTER TABLE t ALTER COLUMN a DROP NOT NULL")
	f.Add("CREATE TABLE t (a", "ALTER TABLE t ADD CHECK (a)")
	f.Add(`CREATE TABLE "t" ("a" int constraint c not null)`, "ALTER TABLE t ALTER a SET DEFAULT (1")
	f.Add(`CREATE TABLE t (a int not null, primary key (a))`, "ALTER TABLE t ALTER a SET DEFAULT nextval('t_a_seq'::regclass)")
	f.Fuzz(func(t *testing.T, create, alter string) {
		tr, ok := translateDDL(alter)
		if !ok || tr.rebuild == nil {
			return
		}
		if stmts, e := rebuildStatements(tr.rebuild, create, nil); e == nil && len(stmts) != 5 {
			t.Fatalf("%q %q: %d statements", create, alter, len(stmts))
		}
	})
}
