package compattest

import (
	"path/filepath"
	"testing"
)

// TestActiveRecord: Rails' ActiveRecord migrates (create_table with
// references, timestamps and an index) on a first start and finds nothing
// to do on a restart, then CRUD through models and transactions.
func TestActiveRecord(t *testing.T) {
	need(t, "ruby", "-e", `require "active_record"; require "pg"`)
	dropTables(t, "ar_orders", "ar_customers", "schema_migrations", "ar_internal_metadata")
	dir, err := filepath.Abs(filepath.Join("testdata", "activerecord_migrate"))
	if err != nil {
		t.Fatal(err)
	}
	script(t, nil, "ruby", "activerecord_app.rb", dsnFor(t, cluster.Follower()), dir)
}
