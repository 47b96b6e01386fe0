package pgsql

import (
	"strings"
	"testing"
)

func TestPlanLines(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		ex   Explain
		rows []PlanRow
		want string
	}{
		{"one scan", Explain{}, []PlanRow{{2, 0, "SCAN t"}}, "SCAN t"},
		{"no table", Explain{}, nil, "Result"},
		{"nested", Explain{}, []PlanRow{
			{3, 0, "SCAN t"},
			{5, 0, "CORRELATED SCALAR SUBQUERY 1"},
			{9, 5, "SEARCH u USING INTEGER PRIMARY KEY (rowid=?)"},
			{12, 9, "LIST SUBQUERY 2"},
			{14, 12, "SCAN v"},
			{20, 0, "USE TEMP B-TREE FOR ORDER BY"},
		}, `SCAN t
CORRELATED SCALAR SUBQUERY 1
  ->  SEARCH u USING INTEGER PRIMARY KEY (rowid=?)
        ->  LIST SUBQUERY 2
              ->  SCAN v
USE TEMP B-TREE FOR ORDER BY`},
		{"under a write", Explain{Root: "Update on t"}, []PlanRow{
			{2, 0, "SEARCH t USING INTEGER PRIMARY KEY (rowid=?)"},
			{4, 2, "child"},
		}, `Update on t
  ->  SEARCH t USING INTEGER PRIMARY KEY (rowid=?)
        ->  child`},
		{"a write without rows", Explain{Root: "Insert on t"}, nil, "Insert on t"},
	} {
		if got := strings.Join(tt.ex.PlanLines(tt.rows), "\n"); got != tt.want {
			t.Errorf("%s:\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}
