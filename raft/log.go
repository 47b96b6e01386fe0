package raft

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net"
	"strings"

	"github.com/hashicorp/go-hclog"
	hraft "github.com/hashicorp/raft"
)

// Log keys used by this package.
const (
	logKeySubsystem = "subsystem"
	logKeyLogger    = "logger"
	logKeyNode      = "node"
	logKeyPeer      = "peer"
	logKeyRemote    = "remote"
	logKeyError     = "error"
)

// levelTrace is hclog's Trace level in slog terms.
const levelTrace = slog.LevelDebug - 4

// discardLogger returns a logger that drops everything.
func discardLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// hclogAdapter presents a *slog.Logger as the hclog.Logger that hashicorp/raft
// wants. It is the only bridge between the two logging libraries in the
// project. The level is the slog handler's business: SetLevel does nothing.
type hclogAdapter struct {
	l       *slog.Logger
	name    string
	implied []any
	// peers quiets hashicorp's repeated failures to reach a peer.
	peers *peerLog
}

var _ hclog.Logger = (*hclogAdapter)(nil)

func newHclogAdapter(l *slog.Logger) *hclogAdapter { return &hclogAdapter{l: l, peers: newPeerLog(l)} }

func toSlogLevel(level hclog.Level) slog.Level {
	switch level {
	case hclog.Trace:
		return levelTrace
	case hclog.Debug:
		return slog.LevelDebug
	case hclog.Warn:
		return slog.LevelWarn
	case hclog.Error:
		return slog.LevelError
	default:
		return slog.LevelInfo
	}
}

// convertArgs turns hclog's key/value arguments into slog's, formatting
// hclog.Format values.
func convertArgs(args []any) []any {
	out := make([]any, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		if k, ok := args[i].(string); ok && (k == logKeyNode || k == logKeySubsystem) {
			// hashicorp's "node" is its Raft value, printed as {}: the
			// logger already carries the node and subsystem.
			continue
		}
		out = appendArg(out, i, args[i])
		out = appendArg(out, i+1, args[i+1])
	}
	if len(args)%2 == 1 {
		out = appendArg(out, len(args)-1, args[len(args)-1])
	}
	return out
}

// closedConn reports whether hashicorp's arguments carry the error of a
// connection closed on this side, or of its transport shut down.
func closedConn(args []any) bool {
	for _, a := range args {
		if err, ok := a.(error); ok && (errors.Is(err, net.ErrClosed) || errors.Is(err, hraft.ErrTransportShutdown)) {
			return true
		}
	}
	return false
}

// appendArg appends argument i, formatting an hclog.Format value, and a
// member as id@address rather than Go's struct syntax.
func appendArg(out []any, i int, a any) []any {
	if s, ok := a.(hraft.Server); ok {
		a = string(s.ID) + "@" + string(s.Address)
	}
	if f, ok := a.(hclog.Format); ok && i%2 == 1 {
		if len(f) > 0 {
			if s, ok := f[0].(string); ok {
				a = fmt.Sprintf(s, f[1:]...)
			} else {
				a = fmt.Sprint(f...)
			}
		} else {
			a = ""
		}
	}
	return append(out, a)
}

func (h *hclogAdapter) Log(level hclog.Level, msg string, args ...any) {
	if level == hclog.Off {
		return
	}
	lv := toSlogLevel(level)
	if h.peers != nil && level >= hclog.Warn && h.peers.filter(msg, args) {
		lv = slog.LevelDebug
	}
	if level >= hclog.Warn && closedConn(args) {
		// A connection this node closed, at shutdown: nothing is wrong.
		lv = slog.LevelDebug
	}
	ctx := context.Background()
	if !h.l.Enabled(ctx, lv) {
		return
	}
	attrs := convertArgs(args)
	if h.name != "" {
		attrs = append([]any{logKeyLogger, h.name}, attrs...)
	}
	h.l.Log(ctx, lv, msg, attrs...)
}

func (h *hclogAdapter) Trace(msg string, args ...any) { h.Log(hclog.Trace, msg, args...) }
func (h *hclogAdapter) Debug(msg string, args ...any) { h.Log(hclog.Debug, msg, args...) }
func (h *hclogAdapter) Info(msg string, args ...any)  { h.Log(hclog.Info, msg, args...) }
func (h *hclogAdapter) Warn(msg string, args ...any)  { h.Log(hclog.Warn, msg, args...) }
func (h *hclogAdapter) Error(msg string, args ...any) { h.Log(hclog.Error, msg, args...) }

func (h *hclogAdapter) enabled(l slog.Level) bool { return h.l.Enabled(context.Background(), l) }

func (h *hclogAdapter) IsTrace() bool { return h.enabled(levelTrace) }
func (h *hclogAdapter) IsDebug() bool { return h.enabled(slog.LevelDebug) }
func (h *hclogAdapter) IsInfo() bool  { return h.enabled(slog.LevelInfo) }
func (h *hclogAdapter) IsWarn() bool  { return h.enabled(slog.LevelWarn) }
func (h *hclogAdapter) IsError() bool { return h.enabled(slog.LevelError) }

func (h *hclogAdapter) ImpliedArgs() []any { return h.implied }

func (h *hclogAdapter) With(args ...any) hclog.Logger {
	return &hclogAdapter{
		l:       h.l.With(convertArgs(args)...),
		name:    h.name,
		implied: append(append([]any(nil), h.implied...), args...),
		peers:   h.peers,
	}
}

func (h *hclogAdapter) Name() string { return h.name }

func (h *hclogAdapter) Named(name string) hclog.Logger {
	n := name
	if h.name != "" {
		n = h.name + "." + name
	}
	return &hclogAdapter{l: h.l, name: n, implied: h.implied, peers: h.peers}
}

func (h *hclogAdapter) ResetNamed(name string) hclog.Logger {
	return &hclogAdapter{l: h.l, name: name, implied: h.implied, peers: h.peers}
}

func (h *hclogAdapter) SetLevel(hclog.Level) {}

func (h *hclogAdapter) GetLevel() hclog.Level {
	switch {
	case h.IsTrace():
		return hclog.Trace
	case h.IsDebug():
		return hclog.Debug
	case h.IsInfo():
		return hclog.Info
	case h.IsWarn():
		return hclog.Warn
	case h.IsError():
		return hclog.Error
	default:
		return hclog.Off
	}
}

func (h *hclogAdapter) StandardLogger(opts *hclog.StandardLoggerOptions) *log.Logger {
	return log.New(h.StandardWriter(opts), "", 0)
}

func (h *hclogAdapter) StandardWriter(opts *hclog.StandardLoggerOptions) io.Writer {
	if opts == nil {
		opts = &hclog.StandardLoggerOptions{}
	}
	return &stdWriter{h: h, opts: *opts}
}

// stdWriter logs each line written by a standard library logger.
type stdWriter struct {
	h    *hclogAdapter
	opts hclog.StandardLoggerOptions
}

func (w *stdWriter) Write(p []byte) (int, error) {
	for line := range bytes.Lines(p) {
		msg := strings.TrimRight(string(line), "\r\n")
		if msg == "" {
			continue
		}
		level := hclog.Info
		if w.opts.ForceLevel != hclog.NoLevel {
			level = w.opts.ForceLevel
		} else if w.opts.InferLevels {
			level, msg = inferLevel(msg)
		}
		w.h.Log(level, msg)
	}
	return len(p), nil
}

// inferLevel reads a "[LEVEL] " prefix the way hclog does.
func inferLevel(msg string) (hclog.Level, string) {
	prefixes := []struct {
		p string
		l hclog.Level
	}{
		{"[TRACE]", hclog.Trace}, {"[DEBUG]", hclog.Debug}, {"[INFO]", hclog.Info},
		{"[WARN]", hclog.Warn}, {"[ERR]", hclog.Error}, {"[ERROR]", hclog.Error},
	}
	for _, x := range prefixes {
		if rest, ok := strings.CutPrefix(msg, x.p); ok {
			return x.l, strings.TrimSpace(rest)
		}
	}
	return hclog.Info, msg
}
