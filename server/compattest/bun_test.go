package compattest

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/driver/pgdriver"
	"github.com/uptrace/bun/migrate"
)

// bunUser and bunStory are the models bun's migration creates: bigserial
// keys, a jsonb column, defaults, and a foreign key.
type bunUser struct {
	bun.BaseModel `bun:"table:bun_users,alias:u"`
	ID            int64          `bun:"id,pk,autoincrement"`
	Name          string         `bun:"name,notnull"`
	Attrs         map[string]any `bun:"attrs,type:jsonb"`
	Active        bool           `bun:"active,notnull,default:true"`
	CreatedAt     time.Time      `bun:"created_at,nullzero,notnull,default:current_timestamp"`
}

type bunStory struct {
	bun.BaseModel `bun:"table:bun_stories,alias:s"`
	ID            int64 `bun:",pk,autoincrement"`
	Title         string
	AuthorID      int64
	Author        *bunUser `bun:"rel:belongs-to,join:author_id=id"`
}

// TestBun: bun on its own wire client (pgdriver): its migrator (a lock
// row, a migrations table), the models' tables, inserts that send DEFAULT
// and RETURNING, a relation join, = ANY of an array, a transaction, an
// upsert of a table with an alias, a bulk update from VALUES in a WITH,
// and the migration rolled back; run twice, as on a restart.
func TestBun(t *testing.T) {
	dropTables(t, "bun_stories", "bun_users", "bun_migrations", "bun_migration_locks")
	dsn := dsnFor(t, cluster.Follower())
	for run := 0; run < 2; run++ {
		runBun(t, dsn)
	}
}

func runBun(t *testing.T, dsn string) {
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	db := bun.NewDB(sql.OpenDB(pgdriver.NewConnector(pgdriver.WithDSN(dsn))), pgdialect.New())
	defer db.Close()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	migrations := migrate.NewMigrations()
	migrations.Add(migrate.Migration{Name: "20240101000000", Comment: "init",
		Up: func(ctx context.Context, _ *migrate.Migrator, _ *migrate.Migration) error {
			if _, err := db.NewCreateTable().Model((*bunUser)(nil)).IfNotExists().Exec(ctx); err != nil {
				return err
			}
			_, err := db.NewCreateTable().Model((*bunStory)(nil)).IfNotExists().
				ForeignKey(`("author_id") REFERENCES "bun_users" ("id") ON DELETE CASCADE`).Exec(ctx)
			return err
		},
		Down: func(ctx context.Context, _ *migrate.Migrator, _ *migrate.Migration) error {
			if _, err := db.NewDropTable().Model((*bunStory)(nil)).IfExists().Exec(ctx); err != nil {
				return err
			}
			_, err := db.NewDropTable().Model((*bunUser)(nil)).IfExists().Exec(ctx)
			return err
		}})
	m := migrate.NewMigrator(db, migrations)
	must("init", m.Init(ctx))
	must("lock", m.Lock(ctx))
	group, err := m.Migrate(ctx)
	must("migrate", err)
	must("unlock", m.Unlock(ctx))
	if group.IsZero() {
		t.Fatalf("nothing migrated")
	}

	u := &bunUser{Name: "ann", Attrs: map[string]any{"k": "v"}}
	_, err = db.NewInsert().Model(u).Returning("*").Exec(ctx)
	must("insert", err)
	if u.ID == 0 || !u.Active || u.CreatedAt.IsZero() {
		t.Fatalf("insert returning: %+v", u)
	}
	_, err = db.NewInsert().Model(&bunStory{Title: "t1", AuthorID: u.ID}).Exec(ctx)
	must("insert story", err)
	var stories []bunStory
	must("select relation", db.NewSelect().Model(&stories).Relation("Author").Where("s.author_id = ?", u.ID).Scan(ctx))
	if len(stories) != 1 || stories[0].Author == nil || stories[0].Author.Name != "ann" || stories[0].Author.Attrs["k"] != "v" {
		t.Fatalf("stories: %+v", stories)
	}
	var users []bunUser
	must("any", db.NewSelect().Model(&users).Where("name = ANY(?)", pgdialect.Array([]string{"ann", "x"})).Scan(ctx))
	if len(users) != 1 {
		t.Fatalf("= ANY: %d users", len(users))
	}
	must("tx", db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		_, err := tx.NewUpdate().Model(u).Set("name = ?", "bob").WherePK().Exec(ctx)
		return err
	}))
	// INSERT INTO "bun_users" AS "u" (…) VALUES (…, DEFAULT, DEFAULT) ON CONFLICT …
	up := &bunUser{ID: u.ID, Name: "up"}
	_, err = db.NewInsert().Model(up).On("CONFLICT (id) DO UPDATE").Set("name = EXCLUDED.name").Exec(ctx)
	must("upsert", err)
	more := []bunUser{{Name: "v1"}, {Name: "v2"}}
	_, err = db.NewInsert().Model(&more).Exec(ctx)
	must("bulk insert", err)
	_, err = db.NewUpdate().With("_data", db.NewValues(&more)).Model((*bunUser)(nil)).TableExpr("_data").
		Set("name = _data.name || '!'").Where("u.id = _data.id").Exec(ctx)
	must("bulk update", err)
	var names []string
	must("names", db.NewSelect().Model((*bunUser)(nil)).Column("name").Order("id").Scan(ctx, &names))
	if got := len(names); got != 3 || names[0] != "up" || names[1] != "v1!" || names[2] != "v2!" {
		t.Fatalf("names: %q", names)
	}
	n, err := db.NewDelete().Model((*bunUser)(nil)).Where("name LIKE ?", "v%").Exec(ctx)
	must("delete", err)
	if k, _ := n.RowsAffected(); k != 2 {
		t.Fatalf("deleted %d rows, want 2", k)
	}
	_, err = m.Rollback(ctx)
	must("rollback", err)
}
