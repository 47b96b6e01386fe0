package server

import (
	"github.com/raftsql/raftsql/fsm"
	"github.com/raftsql/raftsql/pgwire"
	"github.com/raftsql/raftsql/pgwire/pgsql/catalog"
)

// catalogVersion is what version() answers. It is the same on every node
// of any build, since a write may store it.
const catalogVersion = "PostgreSQL " + pgwire.DefaultServerVersion + ", a replicated SQLite database"

// catalogSetup is what the state machine's connections need to run the
// front end's SQLite text and serve the Postgres catalogs: the Go
// functions, then the views that use them.
func catalogSetup() ([]fsm.Func, []string) {
	var funcs []fsm.Func
	// The catalog's include the front end's (regexp, behind ~ and its
	// siblings).
	for _, f := range catalog.Funcs(catalogVersion) {
		funcs = append(funcs, fsm.Func{Name: f.Name, NArgs: f.NArgs, Fn: f.Fn, Since: sinceOf(f.Name)})
	}
	return funcs, catalog.InitSQL(pgwire.DefaultServerVersion, "150000")
}
