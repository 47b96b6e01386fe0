package compattest

import "fmt"

// fmtValue prints a value as text the same way whichever Go type pgx
// decoded it to.
func fmtValue(v any) string {
	switch v := v.(type) {
	case []byte:
		return string(v)
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}
