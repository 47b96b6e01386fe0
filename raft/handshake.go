package raft

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Connection kinds, the first byte a dialer writes.
const (
	kindRaft    byte = 'R' // Raft RPCs, served by hashicorp's NetworkTransport
	kindForward byte = 'F' // the side channel handed to the embedding server
	kindProbe   byte = 'P' // "who is at this address?": answered, then closed
)

// handshakeVersion is the version of the node-to-node protocol this build
// speaks: the handshake below, the Raft RPC encoding of hashicorp's
// NetworkTransport and the embedding server's side-channel protocol. Raise it
// whenever any of them changes incompatibly. A node refuses a peer of another
// version, with a log line naming both versions, rather than misread it.
//
// Version 1 was the unversioned handshake of earlier releases (kind, id
// length, id): where this one has its version byte, those send the high byte
// of the id length, 0 for every id they accept, so they read as version 0 or
// 1 here and are refused cleanly. The version is 2 rather than 1 so that an
// old node reading a new hello takes 0x02xx as an id length beyond maxIDLen
// and drops the connection at once, instead of waiting for 256 id bytes.
const handshakeVersion byte = 2

// errHandshake reports a malformed handshake.
var errHandshake = errors.New("raft: bad connection handshake")

// VersionError reports a peer that speaks another version of the
// node-to-node protocol: typically a node of another release during a
// rolling upgrade across an incompatible change.
type VersionError struct {
	Peer  byte // the peer's version
	Local byte // this node's version
}

func (e *VersionError) Error() string {
	return fmt.Sprintf("raft: peer speaks node protocol version %d, this node speaks version %d; "+
		"nodes of releases with different protocol versions cannot form one cluster, upgrade them all", e.Peer, e.Local)
}

// The handshake, written on the connection itself, or inside TLS when the
// node has a certificate (the TLS handshake then comes first):
//
//	dialer -> acceptor: kind (1 byte) | version (1 byte) | id length (2 bytes, big endian) | id
//	acceptor -> dialer: version (1 byte) | id length (2 bytes, big endian) | id
//
// Ids are validated with validateID, so their length is at most maxIDLen. An
// acceptor that does not speak the dialer's version answers its own version
// and an empty id, and closes the connection; the dialer reports both
// versions. With TLS, the id each side writes must be the one its
// certificate names (CertID), or the other side drops the connection.

// appendHello appends the dialer's opening message.
func appendHello(b []byte, kind byte, id string) []byte {
	b = append(b, kind, handshakeVersion)
	return appendID(b, id)
}

// appendReply appends the acceptor's answer; an empty id refuses.
func appendReply(b []byte, id string) []byte {
	b = append(b, handshakeVersion)
	return appendID(b, id)
}

// appendID appends a length-prefixed node id.
func appendID(b []byte, id string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(id)))
	return append(b, id...)
}

// readHello reads the dialer's opening message. It reads exactly the bytes of
// the message, never more, so the connection can be handed on unbuffered. A
// hello of another version fails with *VersionError, before its id is read.
func readHello(r io.Reader) (kind byte, id string, err error) {
	var h [2]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return 0, "", err
	}
	switch h[0] {
	case kindRaft, kindForward, kindProbe:
	default:
		return 0, "", fmt.Errorf("%w: unknown kind 0x%02x", errHandshake, h[0])
	}
	if h[1] != handshakeVersion {
		return 0, "", &VersionError{Peer: h[1], Local: handshakeVersion}
	}
	id, err = readID(r)
	if err != nil {
		return 0, "", err
	}
	return h[0], id, nil
}

// readReply reads the acceptor's answer, exactly its bytes.
func readReply(r io.Reader) (string, error) {
	var v [1]byte
	if _, err := io.ReadFull(r, v[:]); err != nil {
		return "", err
	}
	if v[0] != handshakeVersion {
		return "", &VersionError{Peer: v[0], Local: handshakeVersion}
	}
	return readID(r)
}

// readID reads a length-prefixed node id and validates it.
func readID(r io.Reader) (string, error) {
	var l [2]byte
	if _, err := io.ReadFull(r, l[:]); err != nil {
		return "", err
	}
	n := int(binary.BigEndian.Uint16(l[:]))
	if n == 0 || n > maxIDLen {
		return "", fmt.Errorf("%w: id length %d", errHandshake, n)
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(r, buf); err != nil {
		return "", err
	}
	id := string(buf)
	if err := validateID(id); err != nil {
		return "", fmt.Errorf("%w: %w", errHandshake, err)
	}
	return id, nil
}
