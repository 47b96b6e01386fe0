package compattest

import (
	"testing"
)

// TestSQLAlchemy: create_all, CRUD and inspector reflection, on a first
// start and on a restart.
func TestSQLAlchemy(t *testing.T) {
	need(t, python, "-c", "import sqlalchemy, psycopg2")
	dropTables(t, "sa_books", "sa_authors")
	url := "postgresql+psycopg2" + dsnFor(t, cluster.Follower())[len("postgres"):]
	script(t, nil, python, "sqlalchemy_app.py", url)
	script(t, nil, python, "sqlalchemy_app.py", url)
}

// TestPsycopg3: psycopg 3 in its default, non-autocommit mode.
func TestPsycopg3(t *testing.T) {
	need(t, python, "-c", "import psycopg")
	dropTables(t, "pg3_items")
	dsn := dsnFor(t, cluster.Follower())
	script(t, nil, python, "psycopg3_app.py", dsn)
	script(t, nil, python, "psycopg3_app.py", dsn)
}

// TestKnex: migrations up, up again on a restart, down, up.
func TestKnex(t *testing.T) {
	env := nodeEnv(t)
	need(t, "node", "-e", "require('knex'); require('pg')")
	dropTables(t, "knex_pets", "knex_people", "knex_migrations", "knex_migrations_lock")
	script(t, env, "node", "knex_app.js", dsnFor(t, cluster.Follower()))
}

// TestKysely: its Migrator (an advisory lock taken from a WITH that calls
// set_config), CRUD, and its introspection of the catalogs, on a first
// start and on a restart.
func TestKysely(t *testing.T) {
	env := nodeEnv(t)
	need(t, "node", "-e", "require('kysely'); require('pg')")
	dropTables(t, "ky_pet", "ky_person", "ky_migration", "ky_migration_lock")
	dsn := dsnFor(t, cluster.Follower())
	script(t, env, "node", "kysely_app.js", dsn)
	script(t, env, "node", "kysely_app.js", dsn)
}

// TestDrizzle: Drizzle ORM's migrator over drizzle-kit's SQL files (its
// default schema "drizzle" refused with 0A000, then public), and its
// query builder, on a first start and on a restart.
func TestDrizzle(t *testing.T) {
	env := nodeEnv(t)
	need(t, "node", "-e", "require('drizzle-orm'); require('pg')")
	dropTables(t, "drz_posts", "drz_users", "__drizzle_migrations")
	dsn := dsnFor(t, cluster.Follower())
	script(t, env, "node", "drizzle_app.js", dsn)
	script(t, env, "node", "drizzle_app.js", dsn)
}

// TestMikroORM: MikroORM's schema update (until its diff of the catalogs
// is empty), unit of work and migrator, on a first start and on a restart.
func TestMikroORM(t *testing.T) {
	env := nodeEnv(t)
	need(t, "node", "-e", "require('@mikro-orm/postgresql'); require('@mikro-orm/migrations')")
	dropTables(t, "mk_book", "mk_author", "mk_tag", "mk_migrations")
	dsn := dsnFor(t, cluster.Follower())
	script(t, env, "node", "mikroorm_app.js", dsn)
	script(t, env, "node", "mikroorm_app.js", dsn)
}

// TestAlembic: Alembic's autogenerate, upgrade, a second autogenerate
// that finds the schema as the models declare it, a migration that alters
// columns and swaps a foreign key, and downgrade to nothing.
func TestAlembic(t *testing.T) {
	need(t, python, "-c", "import alembic, sqlalchemy, psycopg2")
	dropTables(t, "al_posts", "al_users", "al_version")
	url := "postgresql+psycopg2" + dsnFor(t, cluster.Follower())[len("postgres"):]
	script(t, nil, python, "alembic_app.py", url)
}
