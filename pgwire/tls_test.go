package pgwire

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

func selfSigned(t *testing.T) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "127.0.0.1"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

func TestTLS(t *testing.T) {
	_, _, addr := startServer(t, Config{TLSConfig: selfSigned(t)})
	ctx := context.Background()
	c, err := pgx.Connect(ctx, "postgres://u@"+addr+"/db?sslmode=require&connect_timeout=5")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, ok := c.PgConn().Conn().(*tls.Conn); !ok {
		t.Fatalf("connection is %T, want *tls.Conn", c.PgConn().Conn())
	}
	var n int
	if err := c.QueryRow(ctx, "select 5").Scan(&n); err != nil || n != 5 {
		t.Fatalf("select over TLS: %v %v", n, err)
	}
}

func TestRequireTLS(t *testing.T) {
	_, _, addr := startServer(t, Config{TLSConfig: selfSigned(t), RequireTLS: true})
	ctx := context.Background()
	_, err := pgx.Connect(ctx, "postgres://u@"+addr+"/db?sslmode=disable&connect_timeout=5")
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "28000" {
		t.Fatalf("without TLS: got %v, want SQLSTATE 28000", err)
	}
	c, err := pgx.Connect(ctx, "postgres://u@"+addr+"/db?sslmode=require&connect_timeout=5")
	if err != nil {
		t.Fatalf("with TLS: %v", err)
	}
	c.Close(ctx)
}
