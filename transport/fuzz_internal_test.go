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

func FuzzParseAccept(f *testing.F) {
	f.Add(appendAccept(nil, true, 1000))
	f.Add(appendRefuse(nil, codeBinlog, "no such position"))
	f.Add([]byte{0xFF})
	f.Fuzz(func(t *testing.T, p []byte) {
		granted, hb, err := parseAccept(p)
		if err != nil {
			return
		}
		if got := appendAccept(nil, granted, hb); len(got) != len(p) || !bytes.Equal(got[:6], p[:6]) {
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
