package transport

import "github.com/semisync-go/semisync"

// This file exposes the transport's own framing (frame.go) to the black-box
// tests, so that they can play a hand-made replica or source byte by byte.

// Event kinds of the envelope and the refusal codes.
const (
	KindEvent     = kindEvent
	KindHeartbeat = kindHeartbeat

	CodeBadHello = codeBadHello
	CodeBinlog   = codeBinlog
	CodeSource   = codeSource
)

// AppendHello appends a replica's hello payload.
func AppendHello(dst []byte, semisyncWanted bool, id semisync.ReplicaID, start semisync.Position) []byte {
	return appendHello(dst, hello{semisync: semisyncWanted, id: id, start: start})
}

// AppendAccept appends a source's accept payload, with no proof.
func AppendAccept(dst []byte, granted bool, heartbeatMillis uint32) []byte {
	return appendAccept(dst, accept{granted: granted, heartbeatMillis: heartbeatMillis})
}

// ParseAccept parses a source's answer to a response: the accept, or the
// refusal as a *RefusedError.
func ParseAccept(p []byte) (granted bool, heartbeatMillis uint32, err error) {
	a, err := parseAccept(p)
	return a.granted, a.heartbeatMillis, err
}

// AppendEnvelope appends an event's or heartbeat's envelope.
func AppendEnvelope(dst []byte, kind byte, end semisync.Position, data []byte) []byte {
	return appendEnvelope(dst, kind, end, data)
}

// ParseEnvelope splits an envelope; data aliases p.
func ParseEnvelope(p []byte) (kind byte, end semisync.Position, data []byte, err error) {
	var nm names
	return parseEnvelope(p, &nm)
}
