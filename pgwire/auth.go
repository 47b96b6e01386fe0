package pgwire

import (
	"context"
	"crypto/tls"
	"net"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Authenticator decides whether a client may connect. It runs after the
// StartupMessage and before AuthenticationOk, which pgwire sends when
// Authenticate returns nil. A method that needs a password or a SCRAM
// exchange sends authentication requests with Exchange.Send and reads the
// answers with Exchange.Receive. An error ends the connection with a FATAL
// ErrorResponse: an *Error as given (severity FATAL), anything else as
// 28P01 "password authentication failed".
type Authenticator interface {
	Authenticate(ctx context.Context, ex *AuthExchange) error
}

// AuthExchange is one client's side of authentication.
type AuthExchange struct {
	User       string
	Database   string
	Params     map[string]string // all StartupMessage parameters
	RemoteAddr net.Addr
	TLS        *tls.ConnectionState // nil without TLS

	be *pgproto3.Backend
}

// Send sends an authentication request (AuthenticationCleartextPassword,
// AuthenticationMD5Password, AuthenticationSASL, AuthenticationSASLContinue,
// AuthenticationSASLFinal) and flushes it.
func (ex *AuthExchange) Send(msg pgproto3.BackendMessage) error {
	var authType uint32
	switch msg.(type) {
	case *pgproto3.AuthenticationCleartextPassword:
		authType = pgproto3.AuthTypeCleartextPassword
	case *pgproto3.AuthenticationMD5Password:
		authType = pgproto3.AuthTypeMD5Password
	case *pgproto3.AuthenticationSASL:
		authType = pgproto3.AuthTypeSASL
	case *pgproto3.AuthenticationSASLContinue:
		authType = pgproto3.AuthTypeSASLContinue
	case *pgproto3.AuthenticationSASLFinal:
		authType = pgproto3.AuthTypeSASLFinal
	}
	if authType != 0 {
		if err := ex.be.SetAuthType(authType); err != nil {
			return err
		}
	}
	ex.be.Send(msg)
	return ex.be.Flush()
}

// Receive reads the client's next message: a PasswordMessage,
// SASLInitialResponse or SASLResponse, depending on the last request sent.
func (ex *AuthExchange) Receive() (pgproto3.FrontendMessage, error) {
	return ex.be.Receive()
}

type authenticatedKey struct{}

// AuthenticatedUser returns, from the ctx that Backend.NewSession receives,
// the user that Config.Auth accepted. ok is false when no authentication
// ran: no Authenticator is configured, or the connection is trusted
// (Server.ServeTrustedConn).
func AuthenticatedUser(ctx context.Context) (user string, ok bool) {
	user, ok = ctx.Value(authenticatedKey{}).(string)
	return user, ok
}
