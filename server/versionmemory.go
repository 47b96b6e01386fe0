package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
)

// A node remembers, in its data directory, the versions it last learned of
// each member (memberVersionsFile). A member it has not reached since it
// started counts as that remembered release rather than the base one:
// otherwise a node restarted while a member is down would take the cluster
// for one of the oldest release, and as leader refuse the writes that call
// this release's functions (a DEFAULT nextval), restores, and pipelined
// transactions, for as long as the member stays away. Remembering is as
// safe as the rule it leans on: downgrades are not supported, so a member
// that read a version reads it when it comes back, or stops on the first
// entry it cannot read. The member's answer, once it comes, replaces what
// was remembered.

// memberVersionsFile is the file in the data directory that holds them.
const memberVersionsFile = "member-versions.json"

// memberVersions are a member's versions as remembered.
type memberVersions struct {
	Entry int `json:"entry"`
	Peer  int `json:"peer"`
}

// loadRemembered reads the versions remembered in dir; a missing or
// unreadable file remembers nothing (the members count as the base until
// they answer, as before the file existed).
func (t *versionTable) loadRemembered(dir string) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dir = dir
	b, err := os.ReadFile(filepath.Join(dir, memberVersionsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	var m map[string]memberVersions
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("%s: %w", memberVersionsFile, err)
	}
	for id, v := range m {
		if v.Entry <= 0 || v.Peer <= 0 {
			delete(m, id)
		}
	}
	t.remembered = m
	return nil
}

// rememberAnswers records the versions the members answered with, and the
// members of the configuration only; it writes the file when that changed.
// t.mu is held.
func (t *versionTable) rememberAnswers(present map[string]bool) error {
	next := map[string]memberVersions{}
	for id, v := range t.remembered {
		if present[id] {
			next[id] = v
		}
	}
	for id, p := range t.peers {
		if p.entry > 0 {
			next[id] = memberVersions{Entry: p.entry, Peer: p.peer}
		}
	}
	if maps.Equal(next, t.remembered) || t.dir == "" {
		t.remembered = next
		return nil
	}
	t.remembered = next
	b, err := json.Marshal(next)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(t.dir, "."+memberVersionsFile+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	_, err = tmp.Write(b)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), filepath.Join(t.dir, memberVersionsFile))
	}
	return err
}
