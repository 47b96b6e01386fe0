package pgwire

import (
	"testing"

	"github.com/jackc/pgx/v5/pgproto3"
)

// TestErrorResponseNamesTheObject: the object fields of an Error are the
// ErrorResponse fields clients read (s, t, c, n), and an error without them
// sends none.
func TestErrorResponseNamesTheObject(t *testing.T) {
	e := &Error{Code: "23502", Message: `null value in column "x" of relation "t" violates not-null constraint`,
		Schema: "public", Table: "t", Column: "x"}
	r := errorResponse(e, 0)
	if r.SchemaName != "public" || r.TableName != "t" || r.ColumnName != "x" || r.ConstraintName != "" {
		t.Errorf("got schema %q table %q column %q constraint %q", r.SchemaName, r.TableName, r.ColumnName, r.ConstraintName)
	}
	r = errorResponse(&Error{Code: "23505", Message: "dup", Table: "t", Constraint: "t_pkey"}, 0)
	if r.TableName != "t" || r.ConstraintName != "t_pkey" {
		t.Errorf("got table %q constraint %q", r.TableName, r.ConstraintName)
	}
	b, err := errorResponse(newError("42601", "syntax error"), 0).Encode(nil)
	if err != nil {
		t.Fatal(err)
	}
	var back pgproto3.ErrorResponse
	if err := back.Decode(b[5:]); err != nil {
		t.Fatal(err)
	}
	if back.SchemaName != "" || back.TableName != "" || back.ColumnName != "" || back.ConstraintName != "" {
		t.Errorf("an error naming no object sends %+v", back)
	}
}
