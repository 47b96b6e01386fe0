package server

import (
	"context"
	"fmt"
	"testing"
	"time"

	hraft "github.com/hashicorp/raft"

	"github.com/raftsql/raftsql/fsm/command"
)

// BenchmarkViolationNames measures naming a violated constraint from the
// schema (the queries over the catalog views that the session runs after
// the error), in a schema of one table and of 301, against a point select
// on the same read connections.
//
//	go test ./server -run XXX -bench BenchmarkViolationNames -count 6
func BenchmarkViolationNames(b *testing.B) {
	for _, tables := range []int{1, 301} {
		f := benchFSM(b, true)
		st := []command.Statement{
			{SQL: "CREATE TABLE u (id INTEGER PRIMARY KEY, email TEXT UNIQUE, pid INT REFERENCES u (id), n INT CHECK (n > 0))"},
			{SQL: "INSERT INTO u (id, email) VALUES (1, 'a')"},
		}
		for i := 1; i < tables; i++ {
			st = append(st, command.Statement{SQL: fmt.Sprintf("CREATE TABLE t%d (id INTEGER PRIMARY KEY, a TEXT UNIQUE, b INT REFERENCES u (id))", i)})
		}
		resp := f.Apply(&hraft.Log{Index: 1, Term: 1, Type: hraft.LogCommand, Data: command.Encode(&command.Command{
			Kind: command.KindExecute, TimeUnixNano: time.Now().UnixNano(), Seed: 1, Statements: st})})
		if r, ok := resp.(*command.Result); !ok || r.Err() != nil {
			b.Fatalf("setup: %v", resp)
		}
		look := schemaLookup(context.Background(), f)
		// Every read connection sets its views up when first used.
		for range 8 {
			if _, err := f.Query(context.Background(), []command.Statement{{SQL: "SELECT * FROM _pg_idx"}}); err != nil {
				b.Fatal(err)
			}
		}
		fk := &command.Error{Code: constraintFK, Message: "FOREIGN KEY constraint failed"}
		for _, tc := range []struct {
			name, verb, want string
			e                *command.Error
		}{
			{"unique", "INSERT", `duplicate key value violates unique constraint "u_email_key"`,
				&command.Error{Code: constraintUnique, Message: "UNIQUE constraint failed: u.email"}},
			{"primary_key", "INSERT", `duplicate key value violates unique constraint "u_pkey"`,
				&command.Error{Code: constraintPK, Message: "UNIQUE constraint failed: u.id"}},
			{"check", "INSERT", `new row for relation "u" violates check constraint "u_n_check"`,
				&command.Error{Code: constraintCheck, Message: "CHECK constraint failed: n > 0"}},
			{"foreign_key_insert", "INSERT", `insert or update on table "u" violates foreign key constraint "u_pid_fkey"`, fk},
			{"foreign_key_delete", "DELETE", deleteWant(tables), fk},
		} {
			b.Run(fmt.Sprintf("tables=%d/%s", tables, tc.name), func(b *testing.B) {
				for b.Loop() {
					if pe := violationError(tc.e, tc.verb, "u", look); pe.Message != tc.want {
						b.Fatalf("got %q, want %q", pe.Message, tc.want)
					}
				}
			})
		}
		b.Run(fmt.Sprintf("tables=%d/point_select", tables), func(b *testing.B) {
			for b.Loop() {
				res, err := f.Query(context.Background(), []command.Statement{{SQL: "SELECT email FROM u WHERE id = 1"}})
				if err != nil || res.Err() != nil || len(res.Statements[0].Rows) != 1 {
					b.Fatalf("query: %v %v", err, res)
				}
			}
		})
		f.Close()
	}
}

// deleteWant is the message of a DELETE from u: u's own key is the only
// one that references it in a schema of one table.
func deleteWant(tables int) string {
	if tables == 1 {
		return `update or delete on table "u" violates foreign key constraint "u_pid_fkey" on table "u"`
	}
	return `update or delete on table "u" violates a foreign key constraint`
}
