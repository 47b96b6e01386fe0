package command

import "encoding/binary"

// EntryVersion is the highest entry version this build decodes: every
// format byte, command kind and restore step it knows belongs to a version
// at most this one. Nodes advertise it to each other, and a leader proposes
// an entry only when every member of the configuration advertises at least
// the entry's version (EntryVersionOf), so that a node never receives an
// entry it cannot apply.
//
// When adding a format byte, a command kind or a restore step: raise
// EntryVersion by one and give the addition that version in formatVersion,
// kindVersion or restoreOpVersion below. Never lower the version of
// anything already written.
//
//	2: formats 1 and 2 (commands, groups), kinds execute, query and noop
//	3: command format 3 (the result digest, Command.Expect)
//	4: restore entries (format byte 6: begin, chunk, commit, abort)
//	5: the restore step install (a file staged out of band), and the SQL
//	   functions of fsm.Func.Since 5 (server's funcSince)
//	6: the SQL functions of fsm.Func.Since 6 (jsonb's operators and
//	   functions, to_timestamp)
const EntryVersion = 6

// BaseEntryVersion is the version of a node that advertises none: releases
// from before versions were advertised are sure to read format 2 only.
const BaseEntryVersion = 2

// The versions of each addition; 0 is unknown to this build.
var (
	formatVersion = [256]uint8{
		commandV1: 2, groupV1: 2, commandV2: 2, groupV2: 2,
		commandV3: 3,
		restoreV1: 4,
	}
	kindVersion = map[Kind]int{
		KindExecute: 2, KindQuery: 2, KindNoop: 2,
	}
	restoreOpVersion = map[RestoreOp]int{
		RestoreBegin: 4, RestoreChunk: 4, RestoreCommit: 4, RestoreAbort: 4,
		RestoreInstall: 5,
	}
)

// NewestFormatVersion is the highest version an entry's bytes can have
// (its format byte, command kind or restore step): EntryVersion, unless
// the newest versions add SQL functions only, which no entry's bytes show.
func NewestFormatVersion() int {
	v := 0
	for _, f := range formatVersion {
		v = max(v, int(f))
	}
	for _, k := range kindVersion {
		v = max(v, k)
	}
	for _, r := range restoreOpVersion {
		v = max(v, r)
	}
	return v
}

// unknownVersion is the version of bytes this build would not write: above
// every version, so no gate lets them through.
const unknownVersion = EntryVersion + 1

// EntryVersionOf returns the lowest entry version a node must read to
// apply entry (one written by Encode, EncodeGroup or EncodeRestore), from
// its format byte, its command kinds and its restore step. It reads only
// those, never the checksum, so it is cheap on the leader's write path.
// For bytes that are none of those it returns a version above EntryVersion.
func EntryVersionOf(entry []byte) int {
	if len(entry) < 2 {
		return unknownVersion
	}
	v := int(formatVersion[entry[0]])
	if v == 0 {
		return unknownVersion
	}
	switch entry[0] {
	case commandV1, commandV2, commandV3:
		return max(v, kindVersionOf(Kind(entry[1])))
	case restoreV1:
		if op, ok := restoreOpVersion[RestoreOp(entry[1])]; ok {
			return max(v, op)
		}
		return unknownVersion
	case groupV1, groupV2:
		return max(v, groupVersion(entry[1:]))
	}
	return v
}

func kindVersionOf(k Kind) int {
	if v, ok := kindVersion[k]; ok {
		return v
	}
	return unknownVersion
}

// groupVersion is the highest version of the commands of a group entry,
// without its format byte.
func groupVersion(b []byte) int {
	n, k := binary.Uvarint(b)
	if k <= 0 || n == 0 || n > MaxGroup {
		return unknownVersion
	}
	b = b[k:]
	v := 0
	for i := uint64(0); i < n; i++ {
		l, k := binary.Uvarint(b)
		if k <= 0 || l > uint64(len(b)-k) {
			return unknownVersion
		}
		e := b[k : k+int(l)]
		if IsGroup(e) || IsRestore(e) {
			return unknownVersion
		}
		v = max(v, EntryVersionOf(e))
		b = b[k+int(l):]
	}
	return v
}
