package compattest

import "testing"

// TestSequelize: sync on a first start and on a restart, then CRUD.
func TestSequelize(t *testing.T) {
	env := nodeEnv(t)
	need(t, "node", "-e", "require('sequelize'); require('pg')")
	dropTables(t, `"SeqPlayers"`, `"SeqTeams"`)
	script(t, env, "node", "sequelize_app.js", dsnFor(t, cluster.Follower()))
}
