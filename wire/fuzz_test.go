package wire_test

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/wire"
)

// Seeds beyond the captured bytes in testdata/fuzz: short and edge-case
// inputs each decoder has a branch for.
var fuzzPayloadSeeds = []string{"", "00", "00ef", "00ef00", "00ef03", "01", "ef", "ef0000000000000000", "ff", "fe"}

// TestFuzzCorpusHoldsCapturedBytes: the seed corpus in testdata/fuzz starts
// from the bytes captured on the wire.
func TestFuzzCorpusHoldsCapturedBytes(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []byte
	}{
		{"FuzzDecodeEvent/xid-event-flagged", unhex(t, xidPacketHex)[wire.PacketHeaderLen:]},
		{"FuzzDecodeEvent/heartbeat", unhex(t, "00ef00"+heartbeatEventHex)},
		{"FuzzParseAck/ack-go-mysql", unhex(t, goMySQLAckPacketHex)[wire.PacketHeaderLen:]},
		{"FuzzParseAck/ack-mariadb", unhex(t, mariaDBAckHex)},
		{"FuzzParseAck/com-quit", []byte{wire.ComQuit}},
		{"FuzzPacketReader/xid-event-packet", unhex(t, xidPacketHex)},
	} {
		data, err := os.ReadFile(filepath.Join("testdata", "fuzz", filepath.FromSlash(tc.file)))
		require.NoError(t, err)
		require.Contains(t, string(data), fmt.Sprintf("[]byte(%q)", tc.want), tc.file)
	}
}

func addHexSeeds(f *testing.F, seeds []string) {
	for _, s := range seeds {
		b, err := hex.DecodeString(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func FuzzDecodeEvent(f *testing.F) {
	addHexSeeds(f, fuzzPayloadSeeds)
	f.Fuzz(func(t *testing.T, payload []byte) {
		event, reply, err := wire.DecodeEvent(payload)
		if err != nil {
			if event != nil || reply {
				t.Fatalf("error %v with event %x, reply %v", err, event, reply)
			}
			return
		}
		if len(payload) < wire.EventHeaderLen || payload[0] != wire.StatusOK || payload[1] != wire.Magic {
			t.Fatalf("accepted %x", payload)
		}
		if !bytes.Equal(event, payload[wire.EventHeaderLen:]) || reply != (payload[2]&1 == 1) {
			t.Fatalf("%x: event %x, reply %v", payload, event, reply)
		}
		if flag := payload[2]; flag <= 1 {
			if again := wire.AppendEvent(nil, reply, event); !bytes.Equal(again, payload) {
				t.Fatalf("re-encoded %x as %x", payload, again)
			}
		}
	})
}

func FuzzParseAck(f *testing.F) {
	addHexSeeds(f, fuzzPayloadSeeds)
	f.Add(append([]byte{wire.Magic, 4, 0, 0, 0, 0, 0, 0, 0}, strings.Repeat("b", semisync.MaxFileNameLen)...))
	f.Fuzz(func(t *testing.T, payload []byte) {
		name, off, err := wire.ParseAck(payload)
		pos, derr := wire.DecodeAck(payload)
		if (err == nil) != (derr == nil) {
			t.Fatalf("ParseAck: %v, DecodeAck: %v", err, derr)
		}
		if err != nil {
			if name != nil || off != 0 || pos != (semisync.Position{}) {
				t.Fatalf("error %v with a result", err)
			}
			if wire.IsQuit(payload) && payload[0] == wire.Magic {
				t.Fatalf("%x is both COM_QUIT and an ACK", payload)
			}
			return
		}
		if pos.File() != string(name) || pos.Offset() != off || len(name) > semisync.MaxFileNameLen {
			t.Fatalf("%x: ParseAck %q %d, DecodeAck %v", payload, name, off, pos)
		}
		again, err := wire.AppendAck(nil, pos)
		if err != nil || !bytes.Equal(again, payload) {
			t.Fatalf("re-encoded %x as %x (%v)", payload, again, err)
		}
	})
}

func FuzzPacketReader(f *testing.F) {
	f.Add([]byte{}, uint16(100))
	f.Add([]byte{0xff, 0xff, 0xff, 0x00, 1, 2, 3}, uint16(0xffff))
	f.Add([]byte{0x00, 0x00, 0x00, 0x07, 0x01, 0x00, 0x00, 0x00, 0x01}, uint16(1))
	f.Fuzz(func(t *testing.T, stream []byte, limit uint16) {
		maxPayload := int(limit) + 1 // never 0, which would mean the default
		pr := wire.NewPacketReader(bufio.NewReader(bytes.NewReader(stream)), maxPayload)
		rest := stream
		for {
			seq, payload, err := pr.ReadPacket()
			if c := wire.BufCap(pr); c > maxPayload+64<<10 {
				t.Fatalf("buffer capacity %d for a limit of %d", c, maxPayload)
			}
			if err != nil {
				if payload != nil {
					t.Fatalf("error %v with a payload", err)
				}
				return
			}
			if len(payload) > maxPayload {
				t.Fatalf("payload of %d bytes over the limit %d", len(payload), maxPayload)
			}
			// Below MaxPacketLen every packet is one frame: re-encoding it
			// gives back exactly the bytes consumed.
			frame, next := wire.AppendPacket(nil, seq, payload)
			if !bytes.HasPrefix(rest, frame) {
				t.Fatalf("re-encoded packet %x is not the next bytes of the stream", frame)
			}
			if next != pr.NextSeq() || next != seq+1 {
				t.Fatalf("seq %d: NextSeq %d, AppendPacket %d", seq, pr.NextSeq(), next)
			}
			rest = rest[len(frame):]
		}
	})
}

func FuzzParseSetUserVars(f *testing.F) {
	f.Add("SET @a = 1")
	f.Add(`SET @a = 'x\'y''z', @b = "\\"`)
	f.Fuzz(func(t *testing.T, stmt string) {
		vars, err := wire.ParseSetUserVars(stmt)
		if err != nil {
			if vars != nil {
				t.Fatalf("error %v with %v", err, vars)
			}
			return
		}
		if len(vars) == 0 {
			t.Fatalf("%q: no assignments and no error", stmt)
		}
		// Written back as backquoted names and quoted strings, the
		// assignments parse to themselves.
		var b strings.Builder
		b.WriteString("SET ")
		for i, v := range vars {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("@`" + v.Name + "` = '")
			b.WriteString(strings.NewReplacer(`\`, `\\`, `'`, `''`).Replace(v.Value))
			b.WriteString("'")
		}
		again, err := wire.ParseSetUserVars(b.String())
		if err != nil {
			t.Fatalf("%q parsed as %q, which does not parse: %v", stmt, b.String(), err)
		}
		if len(again) != len(vars) {
			t.Fatalf("%q: %v, then %v", stmt, vars, again)
		}
		for i := range vars {
			if again[i] != vars[i] {
				t.Fatalf("%q: %v, then %v", stmt, vars, again)
			}
		}
	})
}

func FuzzAnswerProbe(f *testing.F) {
	f.Add(uint8(0), selSource, true)
	f.Add(uint8(2), showMaster, false)
	f.Add(uint8(3), goMySQLProbe, true)
	f.Fuzz(func(t *testing.T, flavor uint8, stmt string, enabled bool) {
		ans, ok := wire.AnswerProbe(semisync.Flavor(flavor%4), stmt, enabled)
		if !ok {
			if ans.Err != nil || ans.Columns != nil || ans.Rows != nil {
				t.Fatalf("%q: not a probe, but answered %+v", stmt, ans)
			}
			return
		}
		if ans.Err != nil {
			if ans.Err.Code != wire.ErUnknownSystemVariable || ans.Columns != nil || ans.Rows != nil {
				t.Fatalf("%q: %+v", stmt, ans)
			}
			return
		}
		if len(ans.Columns) == 0 || len(ans.Rows) > 1 {
			t.Fatalf("%q: %+v", stmt, ans)
		}
		for _, r := range ans.Rows {
			if len(r) != len(ans.Columns) {
				t.Fatalf("%q: row %q for columns %q", stmt, r, ans.Columns)
			}
		}
	})
}
