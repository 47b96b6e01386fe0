package pgwire

import "testing"

// TestNormalizeSetting: the values of the parameters raftsql checks, as
// drivers and frameworks set them on connecting.
func TestNormalizeSetting(t *testing.T) {
	for _, tt := range []struct{ key, value, want string }{
		{"intervalstyle", "iso_8601", "iso_8601"}, // Rails
		{"intervalstyle", "Postgres", "postgres"},
		{"datestyle", "ISO, DMY", "ISO, DMY"},
		{"client_encoding", "utf-8", "UTF8"},
		{"timezone", "Etc/UTC", "UTC"},
	} {
		got, e := normalizeSetting(tt.key, tt.value)
		if e != nil || got != tt.want {
			t.Errorf("%s = %q: got %q, %v; want %q", tt.key, tt.value, got, e, tt.want)
		}
	}
	for _, tt := range []struct{ key, value string }{{"intervalstyle", "iso"}, {"client_encoding", "LATIN1"}} {
		if _, e := normalizeSetting(tt.key, tt.value); e == nil || e.Code != codeInvalidParameterValue {
			t.Errorf("%s = %q: got %v, want %s", tt.key, tt.value, e, codeInvalidParameterValue)
		}
	}
}
