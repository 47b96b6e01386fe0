package driver

import (
	"encoding/hex"
	"testing"
)

// TestSCRAM runs the SCRAM-SHA-256 exchange of RFC 7677, section 3.
func TestSCRAM(t *testing.T) {
	t.Parallel()
	c := &scramClient{user: "user", password: "pencil", nonce: "rOprNGfwEbeRWgbNEkqO"}
	if got, want := string(c.first()), "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"; got != want {
		t.Fatalf("client-first: got %q, want %q", got, want)
	}
	serverFirst := "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
	final, err := c.final([]byte(serverFirst))
	if err != nil {
		t.Fatal(err)
	}
	want := "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
	if string(final) != want {
		t.Fatalf("client-final: got %q, want %q", final, want)
	}
	if err := c.verify([]byte("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")); err != nil {
		t.Fatalf("verify server-final: %v", err)
	}
	if err := c.verify([]byte("v=AAAATRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=")); err == nil {
		t.Fatal("verify accepted a wrong server signature")
	}
	if _, err := c.final([]byte("r=someoneelse,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096")); err == nil {
		t.Fatal("final accepted a server nonce that does not extend the client's")
	}
}

// TestPBKDF2 checks the PBKDF2-HMAC-SHA256 vectors of RFC 7914, section 11.
func TestPBKDF2(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pass, salt string
		iter       int
		want       string
	}{
		{"passwd", "salt", 1, "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"},
		{"Password", "NaCl", 80000, "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"},
	}
	for _, tt := range tests {
		got := hex.EncodeToString(pbkdf2SHA256([]byte(tt.pass), []byte(tt.salt), tt.iter, 64))
		if got != tt.want {
			t.Errorf("pbkdf2(%q, %q, %d):\n got %s\nwant %s", tt.pass, tt.salt, tt.iter, got, tt.want)
		}
	}
}

func TestMD5Password(t *testing.T) {
	t.Parallel()
	// "md5" + md5(hex(md5("secret" + "postgres")) + salt), computed independently.
	got := md5Password("postgres", "secret", [4]byte{1, 2, 3, 4})
	if want := "md5bb41a296aab6baccb36ff243a562abff"; got != want {
		t.Fatalf("md5Password = %q, want %q", got, want)
	}
}
