package catalog

// TypeModifier is the type modifier Postgres gives a column declared decl,
// as pg_attribute.atttypmod and a result's RowDescription carry it:
// varchar(100) is 104, numeric(8,2) is (8<<16 | 2) + 4; -1 for a type
// without one. oid is the declared type's OID, for the caller to check
// that the column it describes still has that type.
func TypeModifier(decl string) (oid uint32, typmod int32) {
	o, m := declType(decl)
	return uint32(o), int32(m)
}
