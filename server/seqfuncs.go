package server

import (
	"github.com/raftsql/raftsql/fsm"
	"github.com/raftsql/raftsql/pgwire/pgsql"
)

// sequenceFuncs are nextval, setval and currval as the state machine's
// write functions: run on the write connection, inside the statement that
// calls them, on every node alike (pgwire/pgsql/seqfuncs.go says why).
func sequenceFuncs() []fsm.Func {
	var funcs []fsm.Func
	for _, f := range pgsql.WriteFunctions() {
		fn := f.Fn
		funcs = append(funcs, fsm.Func{Name: f.Name, NArgs: f.NumArgs, Fn: f.Read,
			Write: func(tx fsm.FuncTx, args []any) (any, error) { return fn(tx, args) }, Since: sinceOf(f.Name)})
	}
	return funcs
}
