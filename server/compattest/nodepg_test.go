package compattest

import "testing"

// TestNodePostgres: node-postgres (pg) alone, a pool and parameters of
// every common type, on a first start and a restart.
func TestNodePostgres(t *testing.T) {
	env := nodeEnv(t)
	need(t, "node", "-e", "require('pg')")
	dropTables(t, "np_events")
	script(t, env, "node", "nodepg_app.js", dsnFor(t, cluster.Follower()))
}

// TestPgPromise: pg-promise's tasks, transactions and helpers.insert.
func TestPgPromise(t *testing.T) {
	env := nodeEnv(t)
	need(t, "node", "-e", "require('pg-promise')")
	dropTables(t, "pgp_orders")
	script(t, env, "node", "pgpromise_app.js", dsnFor(t, cluster.Follower()))
}

// TestTypeORM: synchronize: true on a first start and on a restart, which
// must find the schema it made up to date, then CRUD and a transaction.
func TestTypeORM(t *testing.T) {
	env := nodeEnv(t)
	need(t, "node", "-e", "require('typeorm'); require('reflect-metadata'); require('pg')")
	dropTables(t, "torm_posts", "torm_authors")
	script(t, env, "node", "typeorm_app.js", dsnFor(t, cluster.Follower()))
}
