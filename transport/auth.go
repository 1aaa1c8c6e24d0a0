package transport

import (
	"crypto/tls"
	"net"

	"github.com/semisync-go/semisync"
)

// Peer is what the server knows of a replica when ServerOptions.Authenticate
// decides whether to accept it.
type Peer struct {
	// ID is the replica's ID from its hello (its server_id).
	ID semisync.ReplicaID
	// Start is the position the replica asks to stream from.
	Start semisync.Position
	// Semisync reports whether the replica asks for semisync.
	Semisync bool
	// Token is the token the replica sent (ReplicaConfig.Token), at most
	// MaxToken bytes, empty if it sent none. It is valid only during the
	// call: copy it to keep it.
	Token []byte
	// TLS is the connection's TLS state, nil without TLS. With mutual TLS
	// (ServerOptions.TLSConfig with tls.RequireAndVerifyClientCert),
	// TLS.VerifiedChains[0][0] is the replica's verified certificate.
	TLS *tls.ConnectionState
	// RemoteAddr is the replica's network address.
	RemoteAddr net.Addr
	// Connected reports whether a connection under ID has been accepted and
	// is still being served: accepting this one closes it (a replica that
	// reconnects before its old connection died, or someone taking over the
	// ID). It is a snapshot: two connections under one ID that handshake at
	// the same time may both see false.
	Connected bool
}

// Disclose marks err, returned by an Authenticate hook, as one the replica
// may read: its refusal then carries err's message instead of the generic
// "transport: not authorised". Any other error of the hook stays on the
// source (OnError).
func Disclose(err error) error {
	if err == nil {
		return nil
	}
	return &disclosed{err}
}

// disclosed is an error the hook lets the replica read.
type disclosed struct{ err error }

func (d *disclosed) Error() string { return d.err.Error() }
func (d *disclosed) Unwrap() error { return d.err }
