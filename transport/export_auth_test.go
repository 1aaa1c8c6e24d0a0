package transport

import "github.com/semisync-go/semisync"

// This file exposes the handshake of protocol version 2 (frame.go) to the
// black-box tests of authentication and limits, so that they can play a
// hostile replica or a rogue source byte by byte.

// Refusal codes and sizes of the handshake.
const (
	CodeShuttingOff   = codeShuttingOff
	CodeNotAuthorised = codeNotAuthorised
	CodeTooMany       = codeTooMany
	NonceLen          = nonceLen
	ProtoVersion      = protoVersion
)

// AppendChallenge appends a source's challenge payload.
func AppendChallenge(dst []byte, secretRequired bool, nonce [NonceLen]byte) []byte {
	return appendChallenge(dst, challenge{secretRequired: secretRequired, nonce: nonce})
}

// ParseChallenge parses a source's answer to a hello: the challenge's flag
// and nonce, or the refusal as a *RefusedError (or a *VersionError).
func ParseChallenge(p []byte) (secretRequired bool, nonce [NonceLen]byte, err error) {
	c, err := parseChallenge(p)
	return c.secretRequired, c.nonce, err
}

// AppendResponse appends a replica's response payload.
func AppendResponse(dst []byte, nonce [NonceLen]byte, proof, token []byte) []byte {
	return appendResponse(dst, response{nonce: nonce, proof: proof, token: token})
}

// ParseResponse parses a replica's response; proof and token alias p.
func ParseResponse(p []byte) (nonce [NonceLen]byte, proof, token []byte, err error) {
	r, err := parseResponse(p)
	return r.nonce, r.proof, r.token, err
}

// AppendAcceptProof appends a source's accept payload with a proof.
func AppendAcceptProof(dst []byte, granted bool, heartbeatMillis uint32, proof []byte) []byte {
	return appendAccept(dst, accept{granted: granted, heartbeatMillis: heartbeatMillis, proof: proof})
}

// ReplicaProof computes a replica's proof of secret.
func ReplicaProof(secret []byte, sourceNonce, replicaNonce [NonceLen]byte, hello, token []byte) []byte {
	return replicaProof(secret, &sourceNonce, &replicaNonce, hello, token)
}

// SourceProof computes a source's proof of secret for an accept.
func SourceProof(secret []byte, sourceNonce, replicaNonce [NonceLen]byte, hello, token, replicaMAC []byte, granted bool, heartbeatMillis uint32) []byte {
	return sourceProof(secret, &sourceNonce, &replicaNonce, hello, token, replicaMAC, accept{granted: granted, heartbeatMillis: heartbeatMillis})
}

// AppendHelloVersion appends a hello that claims protocol version v.
func AppendHelloVersion(dst []byte, v byte, semisyncWanted bool, id semisync.ReplicaID, start semisync.Position) []byte {
	start0 := len(dst)
	dst = appendHello(dst, hello{semisync: semisyncWanted, id: id, start: start})
	dst[start0+4] = v
	return dst
}
