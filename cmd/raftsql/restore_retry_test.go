package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/raftsql/raftsql/server"
)

// A restore a node answers as not applied (its leader lost leadership
// before installing it) is sent again, whole, and its second answer is
// the outcome; one any other way refused is not.
func TestRestoreSentAgainWhenNotApplied(t *testing.T) {
	file := bytes.Repeat([]byte("0123456789abcdef"), 1<<14)
	path := filepath.Join(t.TempDir(), "backup.db")
	if err := os.WriteFile(path, file, 0o644); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var bodies [][]byte
	notApplied := 1
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != "POST" || r.URL.Path != "/restore" {
			http.NotFound(w, r) // a release without restore ids
			return
		}
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies = append(bodies, b)
		refuse := len(bodies) <= notApplied
		mu.Unlock()
		if refuse {
			w.Header().Set(server.HeaderRestoreOutcome, server.RestoreNotApplied)
			http.Error(w, "the restore was not applied and changed nothing: leadership lost", http.StatusServiceUnavailable)
			return
		}
		json.NewEncoder(w).Encode(server.RestoreInfo{Index: 42, DBSize: int64(len(b))})
	}))
	defer srv.Close()
	addr := strings.TrimPrefix(srv.URL, "http://")

	var out, errOut syncBuffer
	if err := run(context.Background(), []string{"restore", "--addr", addr, path}, &out, &errOut); err != nil {
		t.Fatalf("restore: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "as of index 42") || !strings.Contains(errOut.String(), "sending the file again") {
		t.Fatalf("restore printed %q, %q", out.String(), errOut.String())
	}
	if len(bodies) != 2 || !bytes.Equal(bodies[0], file) || !bytes.Equal(bodies[1], file) {
		t.Fatalf("%d requests; want the whole file twice", len(bodies))
	}

	// Never applied, every time: the error says nothing changed.
	bodies, notApplied = nil, 100
	err := run(context.Background(), []string{"restore", "--quiet", "--addr", addr, path}, &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "nothing changed") || len(bodies) != restoreAttempts {
		t.Fatalf("restore never applied: %v after %d requests, want an error saying nothing changed after %d", err, len(bodies), restoreAttempts)
	}
}
