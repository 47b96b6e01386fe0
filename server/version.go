package server

import (
	"fmt"
	"runtime/debug"
)

// Version is the module version and VCS revision the running binary was
// built from, as the Go toolchain recorded them.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(no build information)"
	}
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, at, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = " " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if rev == "" {
		return v + " " + bi.GoVersion
	}
	return fmt.Sprintf("%s rev %s%s%s %s", v, rev, dirty, at, bi.GoVersion)
}
