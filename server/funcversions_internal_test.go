package server

import (
	"strings"
	"testing"

	"github.com/raftsql/raftsql/fsm/command"
)

// TestFuncsHaveVersions: every function the state machine registers is
// either one of the base or listed with the entry version of the release
// that added it, so that adding a function forces that decision (see
// funcversions.go).
func TestFuncsHaveVersions(t *testing.T) {
	funcs, _ := catalogSetup()
	funcs = append(funcs, sequenceFuncs()...)
	for _, f := range funcs {
		name := strings.ToLower(f.Name)
		v, listed := funcSince[name]
		switch {
		case baseFuncs[name] && listed:
			t.Errorf("function %s is both of the base and of entry version %d", f.Name, v)
		case !baseFuncs[name] && !listed:
			t.Errorf("function %s is registered without a version: list it in funcSince with the entry version of this release (%d), or in baseFuncs if every release before had it", f.Name, command.EntryVersion)
		case listed && (v <= command.BaseEntryVersion || v > command.EntryVersion):
			t.Errorf("function %s has entry version %d, outside (%d, %d]", f.Name, v, command.BaseEntryVersion, command.EntryVersion)
		}
		if f.Since != sinceOf(f.Name) {
			t.Errorf("function %s registered with Since %d, its table says %d", f.Name, f.Since, sinceOf(f.Name))
		}
	}
	if sinceOf("no_such_function_yet") != command.EntryVersion {
		t.Error("a function in neither table does not count as one of this release")
	}
}
