package server

import (
	"github.com/raftsql/raftsql/fsm"
	"github.com/raftsql/raftsql/pgwire"
	"github.com/raftsql/raftsql/pgwire/pgsql"
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
	named := map[string]bool{}
	for _, f := range catalog.Funcs(catalogVersion) {
		funcs = append(funcs, fsm.Func{Name: f.Name, NArgs: f.NArgs, Fn: f.Fn})
		named[f.Name] = true
	}
	// The front end's (regexp, behind ~ and its siblings) unless the
	// catalog's already has one of the name.
	for _, f := range pgsql.Functions() {
		if !named[f.Name] {
			funcs = append(funcs, fsm.Func{Name: f.Name, NArgs: f.NumArgs, Fn: f.Fn})
		}
	}
	return funcs, catalog.InitSQL(pgwire.DefaultServerVersion, "150000")
}
