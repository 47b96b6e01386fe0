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
)

// errHandshake reports a malformed handshake.
var errHandshake = errors.New("raft: bad connection handshake")

// The handshake:
//
//	dialer -> acceptor: kind (1 byte) | id length (2 bytes, big endian) | id
//	acceptor -> dialer: id length (2 bytes, big endian) | id
//
// Ids are validated with validateID, so their length is at most maxIDLen.

// appendHello appends the dialer's opening message.
func appendHello(b []byte, kind byte, id string) []byte {
	b = append(b, kind)
	return appendID(b, id)
}

// appendID appends a length-prefixed node id.
func appendID(b []byte, id string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(id)))
	return append(b, id...)
}

// readHello reads the dialer's opening message. It reads exactly the bytes of
// the message, never more, so the connection can be handed on unbuffered.
func readHello(r io.Reader) (kind byte, id string, err error) {
	var k [1]byte
	if _, err := io.ReadFull(r, k[:]); err != nil {
		return 0, "", err
	}
	if k[0] != kindRaft && k[0] != kindForward {
		return 0, "", fmt.Errorf("%w: unknown kind 0x%02x", errHandshake, k[0])
	}
	id, err = readID(r)
	if err != nil {
		return 0, "", err
	}
	return k[0], id, nil
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
