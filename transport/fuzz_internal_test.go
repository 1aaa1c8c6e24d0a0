package transport

import (
	"bytes"
	"testing"

	"github.com/semisync-go/semisync"
)

// The transport's own decoders read bytes from the network: none may
// panic, and whatever they accept must re-encode to the same bytes.

func FuzzParseHello(f *testing.F) {
	f.Add(appendHello(nil, hello{semisync: true, id: 7, start: semisync.FilePos("binlog.000001", 4)}))
	f.Add(appendHello(nil, hello{id: 1}))
	f.Add([]byte("SSGO"))
	f.Fuzz(func(t *testing.T, p []byte) {
		h, err := parseHello(p)
		if err != nil {
			return
		}
		// Flag bits other than bit 0 are ignored, so compare the fields.
		again, err := parseHello(appendHello(nil, h))
		if err != nil || again != h {
			t.Fatalf("hello %+v re-parsed as %+v, %v", h, again, err)
		}
	})
}

func FuzzParseChallenge(f *testing.F) {
	f.Add(appendChallenge(nil, challenge{secretRequired: true, nonce: [nonceLen]byte{1, 2, 3}}))
	f.Add(appendChallenge(nil, challenge{}))
	f.Add(appendRefuse(nil, codeBadHello, "protocol version 2, want 1"))
	f.Add(appendRefuse(nil, codeTooMany, "too many connections"))
	f.Fuzz(func(t *testing.T, p []byte) {
		c, err := parseChallenge(p)
		if err != nil {
			return
		}
		// Flag bits other than bit 0 are ignored, so compare the fields.
		again, err := parseChallenge(appendChallenge(nil, c))
		if err != nil || again != c {
			t.Fatalf("challenge %+v re-parsed as %+v, %v", c, again, err)
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	f.Add(appendResponse(nil, response{nonce: [nonceLen]byte{9}, proof: make([]byte, proofLen), token: []byte("token")}))
	f.Add(appendResponse(nil, response{}))
	f.Add(appendResponse(nil, response{token: make([]byte, MaxToken+1)}))
	f.Add(make([]byte, nonceLen+1+proofLen-1))
	f.Fuzz(func(t *testing.T, p []byte) {
		r, err := parseResponse(p)
		if err != nil {
			return
		}
		if len(r.proof) != 0 && len(r.proof) != proofLen || len(r.token) > MaxToken {
			t.Fatalf("response %x parsed with a proof of %d bytes and a token of %d", p, len(r.proof), len(r.token))
		}
		if got := appendResponse(nil, r); !bytes.Equal(got, p) {
			t.Fatalf("response %x re-encoded as %x", p, got)
		}
	})
}

func FuzzParseAccept(f *testing.F) {
	f.Add(appendAccept(nil, accept{granted: true, heartbeatMillis: 1000}))
	f.Add(appendAccept(nil, accept{heartbeatMillis: 1, proof: make([]byte, proofLen)}))
	f.Add(appendRefuse(nil, codeBinlog, "no such position"))
	f.Add([]byte{0xFF})
	f.Fuzz(func(t *testing.T, p []byte) {
		a, err := parseAccept(p)
		if err != nil {
			return
		}
		if got := appendAccept(nil, a); len(got) != len(p) || !bytes.Equal(got[:6], p[:6]) || !bytes.Equal(got[7:], p[7:]) {
			t.Fatalf("accept %x re-encoded as %x", p, got)
		}
	})
}

func FuzzParseEnvelope(f *testing.F) {
	f.Add(appendEnvelope(nil, kindEvent, semisync.FilePos("binlog.000001", 120), []byte("event")))
	f.Add(appendEnvelope(nil, kindHeartbeat, semisync.LSN(9), nil))
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, p []byte) {
		var nm names
		kind, end, data, err := parseEnvelope(p, &nm)
		if err != nil {
			return
		}
		if got := appendEnvelope(nil, kind, end, data); !bytes.Equal(got, p) {
			t.Fatalf("envelope %x re-encoded as %x", p, got)
		}
	})
}
