package transport

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/semisync-go/semisync"
)

// The transport's own framing, protocol version 2, inside MySQL's protocol
// packets and the semisync prefix of package wire. Each message the
// replica sends opens an exchange at sequence id 0 and the source answers
// it at 1, as MySQL numbers a command and its answer; the event stream
// continues the last exchange from 2:
//
//	hello     (replica → source, seq 0): "SSGO" | version | flags | replica id u32 | start offset u64 | start file name
//	challenge (source → replica, seq 1): 0x00 | "SSGO" | version | flags | source nonce [32]
//	response  (replica → source, seq 0): replica nonce [32] | proof length u8 | proof | token
//	accept    (source → replica, seq 1): 0x00 | "SSGO" | version | flags | heartbeat period ms u32 | proof
//	refuse    (source → replica, seq 1): 0xFF | code u16 | message
//	event     (source → replica, seq 2…): [0x00 0xEF flag | 0x00] | kind | end offset u64 | name length u16 | name | data
//	ACK       (replica → source, seq 0): wire's ACK packet, exactly as MySQL's
//	quit      (replica → source, seq 0): COM_QUIT (0x01), as MariaDB's replica sends
//
// All integers are little-endian. hello flag bit 0 asks for semisync;
// challenge flag bit 0 says the source requires the shared-secret proof;
// accept flag bit 0 grants semisync. The replica speaks first, so that a
// source of another version refuses its hello at once (code 1, the version
// in the message) and a replica of another version gets that refusal in
// answer to its hello: neither waits for a timeout. A refusal answers the
// hello or the response; a server over its limits sends it unasked as soon
// as it accepts the connection (before the hello, and only without TLS).
//
// A proof is empty or HMAC-SHA256 under the shared secret (32 bytes). The
// replica's is over labelReplica, the source nonce, the replica nonce, the
// hello (its length u16, then its bytes) and the token; the source's is over
// labelSource, the same fields with the token's length u16 before the
// token, the replica's proof with its length u8 before it, and the accept's
// flags and heartbeat period.
// Both nonces come from crypto/rand for every connection, so neither proof
// can be replayed on another connection, and the distinct labels keep one
// side's proof from passing for the other's. The token is at most MaxToken
// bytes. Event kinds: 0 an event of the host's binlog, 1 a heartbeat (its
// end is the end of the last event sent).

const (
	protoMagic   = "SSGO"
	protoVersion = 2

	flagSemisync       = 0x01 // hello: asks for semisync; accept: grants it
	flagSecretRequired = 0x01 // challenge: the source requires the secret's proof

	kindEvent     = 0
	kindHeartbeat = 1

	nonceLen = 32
	proofLen = sha256.Size

	helloFixed     = 4 + 1 + 1 + 4 + 8
	challengeLen   = 1 + 4 + 1 + 1 + nonceLen
	responseFixed  = nonceLen + 1
	acceptFixed    = 1 + 4 + 1 + 1 + 4
	envelopeFixed  = 1 + 8 + 2
	maxHelloLen    = helloFixed + semisync.MaxFileNameLen
	maxResponseLen = responseFixed + proofLen + MaxToken

	// maxHandshakePacket bounds every packet the server reads before it
	// accepts a replica: the longest hello or response fits.
	maxHandshakePacket = max(maxHelloLen, maxResponseLen)

	labelReplica = "semisync-go transport v2 replica proof\x00"
	labelSource  = "semisync-go transport v2 source proof\x00\x00"

	// Refusal codes.
	codeBadHello      = 1
	codeSource        = 3
	codeShuttingOff   = 4
	codeNotAuthorised = 5
	codeTooMany       = 1040 // MySQL's ER_CON_COUNT_ERROR, "Too many connections"
	// codeBinlog is MySQL's ER_MASTER_FATAL_ERROR_READING_BINLOG, the
	// dump thread's answer to a start position its binlog does not hold.
	codeBinlog = 1236
)

// MaxToken is the longest token a replica may send (ReplicaConfig.Token).
const MaxToken = 1024

// ErrProtocol is wrapped by errors about bytes that break the transport's
// framing (a bad hello, challenge, response, accept or event envelope).
var ErrProtocol = errors.New("transport: protocol error")

// ErrNotAuthorised is matched (errors.Is) by a *RefusedError with code 5:
// the source refused the replica's credentials, or its Authenticate hook
// refused the replica.
var ErrNotAuthorised = errors.New("transport: not authorised")

// ErrTooManyConnections is matched (errors.Is) by a *RefusedError with code
// 1040, the source's refusal of a connection beyond its MaxConnections or
// MaxHandshakes, and wrapped by ServeConn's error for such a connection.
var ErrTooManyConnections = errors.New("transport: too many connections")

// ErrStartRefused is matched (errors.Is) by a *RefusedError with code
// 1236: the source's binlog does not hold the position the replica asked to
// start from (beyond its end, inside an event, purged) or could not be
// read there, as MySQL's dump thread answers with error 1236. It may be
// passing — a start at an event written but not yet published, a source
// that has not yet reported its binlog's end — so a replica may retry with
// a back-off; one that keeps getting it holds, or asks for, what this
// source never wrote (or purged), and needs an operator: the source takes
// a start as an acknowledgement and will not take this one.
var ErrStartRefused = errors.New("transport: start position refused")

// RefusedError is the source's refusal of a replica's hello.
type RefusedError struct {
	// Code says why: 1 a malformed hello or response, or another protocol
	// version; 3 the source could not register the replica; 4 the server
	// is closing; 5 not authorised (wrong or missing credentials, or the
	// server's Authenticate hook said no); 1040 too many connections (the
	// server's MaxConnections or MaxHandshakes, MySQL's
	// ER_CON_COUNT_ERROR); 1236 the start position was refused: the binlog
	// could not be opened there, or it lies beyond the end of the binlog
	// as the source knows it (MySQL's ER_MASTER_FATAL_ERROR_READING_BINLOG).
	Code uint16
	// Message is the source's explanation.
	Message string
}

// Error returns the code and the source's message.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("transport: source refused the replica (code %d): %s", e.Code, e.Message)
}

// Is makes errors.Is(err, ErrNotAuthorised) true for code 5,
// errors.Is(err, ErrTooManyConnections) true for code 1040 and
// errors.Is(err, ErrStartRefused) true for code 1236.
func (e *RefusedError) Is(target error) bool {
	return target == ErrNotAuthorised && e.Code == codeNotAuthorised ||
		target == ErrTooManyConnections && e.Code == codeTooMany ||
		target == ErrStartRefused && e.Code == codeBinlog
}

// VersionError reports a peer that speaks another version of the
// transport's protocol. It matches ErrProtocol.
type VersionError struct {
	// Got is the version the peer speaks (0 when a source of another
	// version refused the hello, which names its version only in its
	// message); Want is this side's, 2.
	Got, Want byte
	// Refused is that source's refusal, on the replica side.
	Refused *RefusedError
}

// Error names both versions, or quotes the source's refusal.
func (e *VersionError) Error() string {
	if e.Refused != nil {
		return fmt.Sprintf("transport: protocol error: the source does not speak protocol version %d: %s", e.Want, e.Refused.Message)
	}
	return fmt.Sprintf("transport: protocol error: the peer speaks protocol version %d, this side %d", e.Got, e.Want)
}

// Is makes errors.Is(err, ErrProtocol) true.
func (e *VersionError) Is(target error) bool { return target == ErrProtocol }

// Unwrap returns the source's refusal, if any.
func (e *VersionError) Unwrap() error {
	if e.Refused == nil {
		return nil
	}
	return e.Refused
}

type hello struct {
	semisync bool
	id       semisync.ReplicaID
	start    semisync.Position
}

func appendHello(dst []byte, h hello) []byte {
	dst = append(dst, protoMagic...)
	flags := byte(0)
	if h.semisync {
		flags |= flagSemisync
	}
	dst = append(dst, protoVersion, flags)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(h.id))
	dst = binary.LittleEndian.AppendUint64(dst, h.start.Offset())
	return append(dst, h.start.File()...)
}

func parseHello(p []byte) (hello, error) {
	switch {
	case len(p) < helloFixed || string(p[:4]) != protoMagic:
		return hello{}, fmt.Errorf("%w: not a replica hello (%d bytes)", ErrProtocol, len(p))
	case p[4] != protoVersion:
		return hello{}, &VersionError{Got: p[4], Want: protoVersion}
	case len(p)-helloFixed > semisync.MaxFileNameLen:
		return hello{}, fmt.Errorf("%w: start file name of %d bytes", ErrProtocol, len(p)-helloFixed)
	}
	return hello{
		semisync: p[5]&flagSemisync != 0,
		id:       semisync.ReplicaID(binary.LittleEndian.Uint32(p[6:10])),
		start:    semisync.FilePos(string(p[helloFixed:]), binary.LittleEndian.Uint64(p[10:18])),
	}, nil
}

// challenge is the source's answer to a hello.
type challenge struct {
	secretRequired bool
	nonce          [nonceLen]byte
}

func appendChallenge(dst []byte, c challenge) []byte {
	dst = append(dst, 0x00)
	dst = append(dst, protoMagic...)
	flags := byte(0)
	if c.secretRequired {
		flags |= flagSecretRequired
	}
	dst = append(dst, protoVersion, flags)
	return append(dst, c.nonce[:]...)
}

// parseChallenge parses the source's answer to a hello: the challenge, or
// the refusal as a *RefusedError (a *VersionError wrapping it when the
// source refused the hello itself, which only another version does).
func parseChallenge(p []byte) (challenge, error) {
	if err := parseRefusal(p); err != nil {
		if err.Code == codeBadHello {
			return challenge{}, &VersionError{Want: protoVersion, Refused: err}
		}
		return challenge{}, err
	}
	if len(p) != challengeLen || p[0] != 0x00 || string(p[1:5]) != protoMagic || p[5] != protoVersion {
		return challenge{}, fmt.Errorf("%w: not a source's challenge (%d bytes)", ErrProtocol, len(p))
	}
	c := challenge{secretRequired: p[6]&flagSecretRequired != 0}
	copy(c.nonce[:], p[7:])
	return c, nil
}

// response is the replica's answer to the challenge.
type response struct {
	nonce [nonceLen]byte
	proof []byte // empty, or proofLen bytes
	token []byte
}

func appendResponse(dst []byte, r response) []byte {
	dst = append(dst, r.nonce[:]...)
	dst = append(dst, byte(len(r.proof)))
	dst = append(dst, r.proof...)
	return append(dst, r.token...)
}

// parseResponse parses the replica's response. proof and token alias p.
func parseResponse(p []byte) (response, error) {
	if len(p) < responseFixed {
		return response{}, fmt.Errorf("%w: response of %d bytes", ErrProtocol, len(p))
	}
	var r response
	copy(r.nonce[:], p)
	n := int(p[nonceLen])
	rest := p[responseFixed:]
	switch {
	case n != 0 && n != proofLen || len(rest) < n:
		return response{}, fmt.Errorf("%w: proof of %d bytes in a response of %d", ErrProtocol, n, len(p))
	case len(rest)-n > MaxToken:
		return response{}, fmt.Errorf("%w: token of %d bytes, at most %d", ErrProtocol, len(rest)-n, MaxToken)
	}
	r.proof, r.token = rest[:n:n], rest[n:]
	return r, nil
}

// accept is the source's acceptance of a replica.
type accept struct {
	granted         bool
	heartbeatMillis uint32
	proof           []byte // empty, or proofLen bytes
}

func appendAccept(dst []byte, a accept) []byte {
	dst = append(dst, 0x00)
	dst = append(dst, protoMagic...)
	dst = append(dst, protoVersion, a.flags())
	dst = binary.LittleEndian.AppendUint32(dst, a.heartbeatMillis)
	return append(dst, a.proof...)
}

func (a accept) flags() byte {
	if a.granted {
		return flagSemisync
	}
	return 0
}

func appendRefuse(dst []byte, code uint16, msg string) []byte {
	dst = append(dst, 0xFF)
	dst = binary.LittleEndian.AppendUint16(dst, code)
	return append(dst, msg...)
}

// parseRefusal returns the refusal p holds, or nil if p is not one.
func parseRefusal(p []byte) *RefusedError {
	if len(p) >= 3 && p[0] == 0xFF {
		return &RefusedError{Code: binary.LittleEndian.Uint16(p[1:3]), Message: string(p[3:])}
	}
	return nil
}

// parseAccept parses the source's answer to the response: the accept
// (whose proof aliases p), or the refusal as a *RefusedError.
func parseAccept(p []byte) (accept, error) {
	if err := parseRefusal(p); err != nil {
		return accept{}, err
	}
	if len(p) != acceptFixed && len(p) != acceptFixed+proofLen || p[0] != 0x00 || string(p[1:5]) != protoMagic || p[5] != protoVersion {
		return accept{}, fmt.Errorf("%w: not a source's accept (%d bytes)", ErrProtocol, len(p))
	}
	return accept{
		granted:         p[6]&flagSemisync != 0,
		heartbeatMillis: binary.LittleEndian.Uint32(p[7:11]),
		proof:           p[acceptFixed:len(p):len(p)],
	}, nil
}

// replicaProof is the replica's proof that it knows secret, bound to both
// nonces, its hello and its token.
func replicaProof(secret []byte, sourceNonce, replicaNonce *[nonceLen]byte, hello, token []byte) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(labelReplica))
	m.Write(sourceNonce[:])
	m.Write(replicaNonce[:])
	m.Write(binary.LittleEndian.AppendUint16(nil, uint16(len(hello))))
	m.Write(hello)
	m.Write(token)
	return m.Sum(nil)
}

// sourceProof is the source's proof that it knows secret, bound to the
// same transcript, the replica's proof and the accept's fields.
func sourceProof(secret []byte, sourceNonce, replicaNonce *[nonceLen]byte, hello, token, replicaMAC []byte, a accept) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(labelSource))
	m.Write(sourceNonce[:])
	m.Write(replicaNonce[:])
	m.Write(binary.LittleEndian.AppendUint16(nil, uint16(len(hello))))
	m.Write(hello)
	m.Write(binary.LittleEndian.AppendUint16(nil, uint16(len(token))))
	m.Write(token)
	m.Write([]byte{byte(len(replicaMAC))})
	m.Write(replicaMAC)
	m.Write([]byte{a.flags()})
	m.Write(binary.LittleEndian.AppendUint32(nil, a.heartbeatMillis))
	return m.Sum(nil)
}

// appendEnvelope appends the envelope of an event or heartbeat.
func appendEnvelope(dst []byte, kind byte, end semisync.Position, data []byte) []byte {
	dst = append(dst, kind)
	dst = binary.LittleEndian.AppendUint64(dst, end.Offset())
	dst = binary.LittleEndian.AppendUint16(dst, uint16(len(end.File())))
	dst = append(dst, end.File()...)
	return append(dst, data...)
}

// names interns binlog file names so that decoding a stream of events in
// one file does not allocate a string per event.
type names struct{ last string }

func (n *names) intern(b []byte) string {
	if string(b) != n.last { // the conversion in a comparison does not allocate
		n.last = string(b)
	}
	return n.last
}

// parseEnvelope splits an event's envelope. data aliases p.
func parseEnvelope(p []byte, nm *names) (kind byte, end semisync.Position, data []byte, err error) {
	if len(p) < envelopeFixed {
		return 0, semisync.Position{}, nil, fmt.Errorf("%w: event envelope of %d bytes", ErrProtocol, len(p))
	}
	kind = p[0]
	off := binary.LittleEndian.Uint64(p[1:9])
	n := int(binary.LittleEndian.Uint16(p[9:11]))
	switch {
	case kind != kindEvent && kind != kindHeartbeat:
		return 0, semisync.Position{}, nil, fmt.Errorf("%w: event kind %d", ErrProtocol, kind)
	case n > semisync.MaxFileNameLen || len(p) < envelopeFixed+n:
		return 0, semisync.Position{}, nil, fmt.Errorf("%w: file name of %d bytes in a %d-byte envelope", ErrProtocol, n, len(p))
	}
	return kind, semisync.FilePos(nm.intern(p[envelopeFixed:envelopeFixed+n]), off), p[envelopeFixed+n:], nil
}
