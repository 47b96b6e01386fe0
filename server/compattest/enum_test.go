package compattest

import "testing"

// TestSQLAlchemyEnum: an Enum column: create_all makes the type and the
// table, a round trip, a value that is no label refused with 22P02, the
// inspector reflecting the enum and its labels in order; on a first start
// and on a restart, which finds the type there.
func TestSQLAlchemyEnum(t *testing.T) {
	need(t, python, "-c", "import sqlalchemy, psycopg2")
	dropTables(t, "sa_people")
	execSQL(t, "DROP TYPE IF EXISTS sa_mood")
	// The cluster is shared: a tool that diffs the whole database (MikroORM
	// drops the enum types it does not know) must not find this one.
	t.Cleanup(func() {
		dropTables(t, "sa_people")
		execSQL(t, "DROP TYPE IF EXISTS sa_mood")
	})
	url := "postgresql+psycopg2" + dsnFor(t, cluster.Follower())[len("postgres"):]
	script(t, nil, python, "sqlalchemy_enum_app.py", url)
	script(t, nil, python, "sqlalchemy_enum_app.py", url)
}
