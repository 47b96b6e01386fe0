package pgwire

import (
	"fmt"
	"sort"
	"strings"
)

// This file keeps the run-time parameters (GUCs, in Postgres' terms) of a
// connection and parses the statements that pgwire answers itself: SET,
// RESET, SHOW and DISCARD.

type gucDef struct {
	name     string // canonical spelling, as SHOW and ParameterStatus use it
	def      string
	report   bool // sent as ParameterStatus at startup and when it changes
	readOnly bool // SET fails with 55P02
	fixed    bool // SET is accepted but the value stays
	desc     string
}

// gucDefs are the parameters pgwire knows. server_version and
// session_authorization get their values per connection.
var gucDefs = []gucDef{
	{name: "application_name", report: true, desc: "Sets the application name to be reported in statistics and logs."},
	{name: "client_encoding", def: "UTF8", report: true, desc: "Sets the client's character set encoding."},
	{name: "DateStyle", def: "ISO, MDY", report: true, desc: "Sets the display format for date and time values."},
	{name: "default_transaction_read_only", def: "off", report: true, desc: "Sets the default read-only status of new transactions."},
	{name: "in_hot_standby", def: "off", report: true, readOnly: true, desc: "Shows whether hot standby is currently active."},
	{name: "integer_datetimes", def: "on", report: true, readOnly: true, desc: "Shows whether datetimes are integer based."},
	{name: "IntervalStyle", def: "postgres", report: true, desc: "Sets the display format for interval values."},
	{name: "is_superuser", def: "on", report: true, readOnly: true, desc: "Shows whether the current user is a superuser."},
	{name: "server_encoding", def: "UTF8", report: true, readOnly: true, desc: "Shows the server (database) character set encoding."},
	{name: "server_version", report: true, readOnly: true, desc: "Shows the server version."},
	{name: "session_authorization", report: true, readOnly: true, desc: "Sets the session user name."},
	{name: "standard_conforming_strings", def: "on", report: true, desc: "Causes '...' strings to treat backslashes literally."},
	{name: "TimeZone", def: "UTC", report: true, desc: "Sets the time zone for displaying and interpreting time stamps."},

	{name: "server_version_num", readOnly: true, desc: "Shows the server version as an integer."},
	{name: "transaction_isolation", def: "serializable", fixed: true, desc: "Sets the current transaction's isolation level."},
	{name: "default_transaction_isolation", def: "serializable", fixed: true, desc: "Sets the transaction isolation level of each new transaction."},
	{name: "transaction_read_only", def: "off", fixed: true, desc: "Sets the current transaction's read-only status."},
	{name: "search_path", def: `"$user", public`, desc: "Sets the schema search order for names that are not schema-qualified."},
	{name: "extra_float_digits", def: "1", desc: "Sets the number of digits displayed for floating-point values."},
	{name: "max_identifier_length", def: "63", readOnly: true, desc: "Shows the maximum identifier length."},
	{name: "bytea_output", def: "hex", fixed: true, desc: "Sets the output format for bytea."},
	{name: "statement_timeout", def: "0", desc: "Sets the maximum allowed duration of any statement."},
	{name: "lock_timeout", def: "0", desc: "Sets the maximum allowed duration of any wait for a lock."},
	{name: "idle_in_transaction_session_timeout", def: "0", desc: "Sets the maximum allowed idle time between queries, when in a transaction."},
	{name: "client_min_messages", def: "notice", desc: "Sets the message levels that are sent to the client."},
	{name: "lc_messages", def: "C", desc: "Sets the language in which messages are displayed."},
	{name: "lc_collate", def: "C", readOnly: true, desc: "Shows the collation order locale."},
	{name: "lc_ctype", def: "C", readOnly: true, desc: "Shows the character classification and case conversion locale."},
}

var gucByKey = func() map[string]*gucDef {
	m := make(map[string]*gucDef, len(gucDefs))
	for i := range gucDefs {
		m[strings.ToLower(gucDefs[i].name)] = &gucDefs[i]
	}
	return m
}()

// canonicalName is the spelling of a parameter name for SHOW and
// ParameterStatus.
func canonicalName(key string) string {
	if d, ok := gucByKey[key]; ok {
		return d.name
	}
	return key
}

// settings are one connection's parameters, keyed by lower-case name.
type settings struct {
	vals  map[string]string
	reset map[string]string // values RESET returns to: the defaults after startup
}

func newSettings(serverVersion, user, versionNum string) *settings {
	s := &settings{vals: make(map[string]string), reset: make(map[string]string)}
	for _, d := range gucDefs {
		s.vals[strings.ToLower(d.name)] = d.def
	}
	s.vals["server_version"] = serverVersion
	s.vals["server_version_num"] = versionNum
	s.vals["session_authorization"] = user
	return s
}

// snapshot makes the current values the ones RESET returns to.
func (s *settings) snapshot() {
	clear(s.reset)
	for k, v := range s.vals {
		s.reset[k] = v
	}
}

// normalize checks a new value for a parameter pgwire itself cares about and
// returns it in canonical form.
func normalizeSetting(key, value string) (string, *Error) {
	if d, ok := gucByKey[key]; ok && d.readOnly {
		return "", newError(codeCantChangeRuntimeParam, fmt.Sprintf("parameter %q cannot be changed", d.name))
	}
	switch key {
	case "client_encoding":
		v := strings.ToUpper(strings.NewReplacer("-", "", "_", "").Replace(value))
		if v != "UTF8" && v != "UNICODE" {
			e := newError(codeInvalidParameterValue, fmt.Sprintf("invalid value for parameter \"client_encoding\": %q", value))
			e.Detail = "Only UTF8 is supported."
			return "", e
		}
		return "UTF8", nil
	case "standard_conforming_strings":
		if b, ok := parseBool(value); !ok || !b {
			return "", newError(codeInvalidParameterValue, fmt.Sprintf("invalid value for parameter \"standard_conforming_strings\": %q (only on is supported)", value))
		}
		return "on", nil
	case "datestyle":
		order := "MDY"
		for _, part := range strings.Split(value, ",") {
			switch strings.ToUpper(strings.TrimSpace(part)) {
			case "ISO", "":
			case "MDY", "US", "NONEUROPEAN":
				order = "MDY"
			case "DMY", "EUROPEAN":
				order = "DMY"
			case "YMD":
				order = "YMD"
			default:
				e := newError(codeInvalidParameterValue, fmt.Sprintf("invalid value for parameter \"DateStyle\": %q", value))
				e.Detail = "Only the ISO output style is supported."
				return "", e
			}
		}
		return "ISO, " + order, nil
	case "intervalstyle":
		// Every style Postgres has is taken (Rails sets iso_8601): no
		// result holds an interval, so none is shown in any style.
		switch v := strings.ToLower(strings.TrimSpace(value)); v {
		case "postgres", "postgres_verbose", "sql_standard", "iso_8601":
			return v, nil
		}
		return "", newError(codeInvalidParameterValue, fmt.Sprintf("invalid value for parameter \"IntervalStyle\": %q", value))
	case "timezone":
		_, name, ok := loadZone(value)
		if !ok {
			return "", errTimeZone(value)
		}
		return name, nil
	}
	return value, nil
}

// showAll lists every parameter for SHOW ALL, sorted by name.
func (s *settings) showAll(show func(string) (string, bool)) [][]any {
	keys := make([]string, 0, len(s.vals))
	for k := range s.vals {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	rows := make([][]any, 0, len(keys))
	for _, k := range keys {
		v := s.vals[k]
		if sv, ok := show(k); ok {
			v = sv
		}
		desc := ""
		if d, ok := gucByKey[k]; ok {
			desc = d.desc
		}
		rows = append(rows, []any{canonicalName(k), v, desc})
	}
	return rows
}
