package command

import (
	"fmt"
	"math"
)

// Kind says what a command asks the state machine to do.
type Kind uint8

const (
	// KindExecute runs statements that may write, in one SQLite transaction.
	KindExecute Kind = 1
	// KindQuery runs read-only statements through the log, for reads at the
	// strong consistency level.
	KindQuery Kind = 2
	// KindNoop changes nothing; a new leader proposes one to learn its
	// commit index.
	KindNoop Kind = 3
)

func (k Kind) String() string {
	switch k {
	case KindExecute:
		return "execute"
	case KindQuery:
		return "query"
	case KindNoop:
		return "noop"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// RequestID names one client request so that a retry of it is applied once.
// The zero value means the request carries no id and is never deduplicated.
type RequestID struct {
	Client uint64 // chosen at random by the client session
	Seq    uint64 // increases with each request of that client
}

// IsZero reports whether the id is absent.
func (r RequestID) IsZero() bool { return r.Client == 0 && r.Seq == 0 }

// Command is one Raft log entry.
type Command struct {
	Kind      Kind
	RequestID RequestID
	// TimeUnixNano is the leader's clock when it proposed the command. The
	// state machine computes CURRENT_TIMESTAMP and the date functions from it.
	TimeUnixNano int64
	// Seed seeds random() and randomblob() during apply, and SQLite's own
	// generator (new rowids past the largest, column names made unique).
	Seed uint64
	// MaxSteps bounds the work of the command: the SQLite virtual machine
	// steps its statements may take, all together. A command that needs
	// more fails with CodeLimit on every node. 0 means no bound (commands
	// of format 1).
	MaxSteps int64
	// MaxValueSize bounds, in bytes, every string or blob the command's
	// statements make or bind, and the text of each statement. 0 means
	// SQLite's own maximum (commands of format 1).
	MaxValueSize int64
	// Expect, when not 0, is ResultDigest of the results the leader showed
	// the client of the transaction this command commits, which it ran
	// before the entries ahead of it were applied. Every node applies the
	// command only if its statements produce exactly those results again;
	// otherwise it undoes it and answers CodeConflict, so a transaction
	// never commits with results its client did not see.
	Expect     uint64
	Statements []Statement
}

// Statement is one SQL statement with its parameters, bound by position
// ($1 is Params[0]) unless a parameter has a Name.
type Statement struct {
	SQL    string
	Params []Value
}

// ValueType is the storage class of a Value, as SQLite has them.
type ValueType uint8

const (
	TypeNull    ValueType = 0
	TypeInteger ValueType = 1
	TypeFloat   ValueType = 2
	TypeText    ValueType = 3
	TypeBlob    ValueType = 4
)

func (t ValueType) String() string {
	switch t {
	case TypeNull:
		return "null"
	case TypeInteger:
		return "integer"
	case TypeFloat:
		return "float"
	case TypeText:
		return "text"
	case TypeBlob:
		return "blob"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Value is a typed SQL value: a parameter or a result cell.
type Value struct {
	Type  ValueType
	Int   int64
	Float float64
	Text  string
	Blob  []byte
	// Name, when set, binds the parameter by name (":name", "@name",
	// "$name") instead of by position. Result cells never have one.
	Name string
}

// Null, Int, Float, Text and Blob build values.
func Null() Value              { return Value{Type: TypeNull} }
func Int(v int64) Value        { return Value{Type: TypeInteger, Int: v} }
func Float(v float64) Value    { return Value{Type: TypeFloat, Float: v} }
func Text(v string) Value      { return Value{Type: TypeText, Text: v} }
func Blob(v []byte) Value      { return Value{Type: TypeBlob, Blob: v} }
func (v Value) IsNull() bool   { return v.Type == TypeNull }
func (v Value) String() string { return fmt.Sprint(v.Any()) }

// Any returns the value as nil, int64, float64, string or []byte.
func (v Value) Any() any {
	switch v.Type {
	case TypeInteger:
		return v.Int
	case TypeFloat:
		return v.Float
	case TypeText:
		return v.Text
	case TypeBlob:
		if v.Blob == nil {
			return []byte{}
		}
		return v.Blob
	}
	return nil
}

// FromAny converts nil, integers, floats, bool, string and []byte to a Value.
func FromAny(x any) (Value, error) {
	switch x := x.(type) {
	case nil:
		return Null(), nil
	case int64:
		return Int(x), nil
	case int:
		return Int(int64(x)), nil
	case int32:
		return Int(int64(x)), nil
	case float64:
		return Float(x), nil
	case float32:
		return Float(float64(x)), nil
	case bool:
		if x {
			return Int(1), nil
		}
		return Int(0), nil
	case string:
		return Text(x), nil
	case []byte:
		return Blob(x), nil
	}
	return Value{}, fmt.Errorf("command: unsupported value type %T", x)
}

// Equal reports whether two values are the same, bit for bit for floats.
func (v Value) Equal(w Value) bool {
	if v.Type != w.Type || v.Name != w.Name {
		return false
	}
	switch v.Type {
	case TypeInteger:
		return v.Int == w.Int
	case TypeFloat:
		return math.Float64bits(v.Float) == math.Float64bits(w.Float)
	case TypeText:
		return v.Text == w.Text
	case TypeBlob:
		return string(v.Blob) == string(w.Blob)
	}
	return true
}
