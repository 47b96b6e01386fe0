package server

import (
	_ "embed"
	"encoding/json"
	"net/http"
)

// statusPage is the admin address's front page: one self-contained HTML
// file (no external assets, no build step) that polls /status and /stats
// every second and draws the cluster's members, this node's traffic and
// its history.
//
//go:embed statuspage.html
var statusPage []byte

// statusRoutes registers the status page, /stats (its JSON feed) and
// /metrics (Prometheus).
func (n *Node) statusRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'")
		w.Write(statusPage)
	})
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(n.Stats())
	})
	mux.Handle("GET /metrics", n.metrics.handler())
}
