package compattest

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/golang-migrate/migrate/v4"
	_ "github.com/golang-migrate/migrate/v4/database/postgres"
	_ "github.com/golang-migrate/migrate/v4/source/file"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
)

// TestGolangMigrate: two migrations up, one down, up again, each by a
// migrator that starts afresh as a deployment would; golang-migrate takes
// its advisory lock around each.
func TestGolangMigrate(t *testing.T) {
	dsn := dsnFor(t, cluster.Follower())
	dropTables(t, "migrate_entries", "migrate_accounts", "schema_migrations")
	src, err := filepath.Abs("testdata/migrate")
	if err != nil {
		t.Fatal(err)
	}
	step := func(what string, f func(m *migrate.Migrate) error, wantVersion uint) {
		t.Helper()
		m, err := migrate.New("file://"+src, dsn)
		if err != nil {
			t.Fatalf("%s: migrate.New: %v", what, err)
		}
		defer m.Close()
		if err := f(m); err != nil && !errors.Is(err, migrate.ErrNoChange) {
			t.Fatalf("%s: %v", what, err)
		}
		v, dirty, err := m.Version()
		if err != nil || dirty || v != wantVersion {
			t.Fatalf("%s: version %d dirty %v (%v); want %d clean", what, v, dirty, err, wantVersion)
		}
	}
	step("up", func(m *migrate.Migrate) error { return m.Up() }, 2)
	step("up again (a restart)", func(m *migrate.Migrate) error { return m.Up() }, 2)
	step("one down", func(m *migrate.Migrate) error { return m.Steps(-1) }, 1)
	step("up", func(m *migrate.Migrate) error { return m.Up() }, 2)
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM migrate_accounts WHERE name = 'opening'`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("rows of migration 2: %d, %v; want 1", n, err)
	}
}

// TestGoose: goose's postgres dialect, with its advisory session lock, up,
// up again on restart, one down, up again.
func TestGoose(t *testing.T) {
	dsn := dsnFor(t, cluster.Follower())
	dropTables(t, "goose_tags", "goose_items", "goose_db_version")
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	provider := func() *goose.Provider {
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			t.Fatal(err)
		}
		p, err := goose.NewProvider(goose.DialectPostgres, db, os.DirFS("testdata/goose"), goose.WithSessionLocker(locker))
		if err != nil {
			t.Fatalf("goose.NewProvider: %v", err)
		}
		return p
	}
	version := func(what string, want int64) {
		t.Helper()
		v, err := provider().GetDBVersion(ctx)
		if err != nil || v != want {
			t.Fatalf("%s: version %d, %v; want %d", what, v, err, want)
		}
	}
	if _, err := provider().Up(ctx); err != nil {
		t.Fatalf("up: %v", err)
	}
	version("up", 2)
	if _, err := provider().Up(ctx); err != nil {
		t.Fatalf("up again (a restart): %v", err)
	}
	version("up again", 2)
	if _, err := provider().Down(ctx); err != nil {
		t.Fatalf("down: %v", err)
	}
	version("down", 1)
	if _, err := provider().Up(ctx); err != nil {
		t.Fatalf("up after down: %v", err)
	}
	version("up after down", 2)
}
