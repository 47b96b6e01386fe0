package servertest

import (
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// FreeAddr returns a loopback address whose port nothing listens on now,
// one it has not returned before in this process, and one below the
// kernel's range of ephemeral ports. A node that restarts binds its old
// ports again; a port the kernel picked (":0") is an ephemeral one, which
// any process's outgoing connection may hold as its local port meanwhile,
// for as long as the connection lives, and the restart would fail with
// "address already in use". Below that range only listeners take ports.
func FreeAddr(t testing.TB) string {
	t.Helper()
	freeMu.Lock()
	defer freeMu.Unlock()
	low := ephemeralLow()
	const first = 10000
	for range 1000 {
		if low <= first+1000 {
			break // an unusual range: let the kernel pick
		}
		addr := fmt.Sprintf("127.0.0.1:%d", first+rand.IntN(low-first))
		if freeGiven[addr] {
			continue
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			continue
		}
		ln.Close()
		freeGiven[addr] = true
		return addr
	}
	for {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		if !freeGiven[addr] {
			freeGiven[addr] = true
			return addr
		}
	}
}

var (
	freeMu    sync.Mutex
	freeGiven = map[string]bool{}
)

// ephemeralLow is the first port of the kernel's ephemeral range (Linux's
// default where it cannot be read, and on other systems IANA's 49152 is
// above it anyway).
func ephemeralLow() int {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return 32768
	}
	f := strings.Fields(string(b))
	if len(f) < 1 {
		return 32768
	}
	n, err := strconv.Atoi(f[0])
	if err != nil {
		return 32768
	}
	return n
}
