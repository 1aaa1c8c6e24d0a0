package wire_test

import (
	"bufio"
	"encoding/binary"
	"io"
	"testing"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/wire"
)

var (
	sinkBytes []byte
	sinkBool  bool
	sinkU64   uint64
)

func BenchmarkDecodeEvent(b *testing.B) {
	payload := wire.AppendEvent(nil, true, unhex(b, xidEventHex))
	b.ReportAllocs()
	b.SetBytes(int64(len(payload)))
	for b.Loop() {
		ev, reply, err := wire.DecodeEvent(payload)
		if err != nil {
			b.Fatal(err)
		}
		sinkBytes, sinkBool = ev, reply
	}
}

// BenchmarkParseAck decodes the go-mysql ACK without copying. x-vs-DecodeAck
// divides by the time of DecodeAck, which copies the name into a Position,
// measured in the same run.
func BenchmarkParseAck(b *testing.B) {
	payload := unhex(b, goMySQLAckPacketHex)[wire.PacketHeaderLen:]
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		name, off, err := wire.ParseAck(payload)
		if err != nil {
			b.Fatal(err)
		}
		sinkBytes, sinkU64 = name, off
		n++
	}
	b.StopTimer()
	start := time.Now()
	for range n {
		pos, _ := wire.DecodeAck(payload)
		sinkU64 = pos.Offset()
	}
	b.ReportMetric(float64(b.Elapsed())/float64(max(time.Since(start), 1)), "x-vs-DecodeAck")
}

func BenchmarkAppendAck(b *testing.B) {
	pos := semisync.FilePos("mysql-bin.000001", 868973)
	buf := make([]byte, 0, wire.MaxAckLen)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		buf, err = wire.AppendAck(buf[:0], pos)
		if err != nil {
			b.Fatal(err)
		}
	}
	sinkBytes = buf
}

// loopReader serves the same bytes over and over, an endless stream of
// whole packets.
type loopReader struct {
	data []byte
	off  int
}

func (r *loopReader) Read(p []byte) (int, error) {
	n := copy(p, r.data[r.off:])
	r.off = (r.off + n) % len(r.data)
	return n, nil
}

// BenchmarkPacketReader reads a stream of packets with 100-byte payloads.
// x-vs-naive divides by the time of a naive reader that allocates every
// payload, measured in the same run over the same stream.
func BenchmarkPacketReader(b *testing.B) {
	var stream []byte
	for i := range 64 {
		stream, _ = wire.AppendPacket(stream, uint8(i), pattern(100))
	}
	pr := wire.NewPacketReader(bufio.NewReaderSize(&loopReader{data: stream}, 64<<10), 1<<20)
	b.ReportAllocs()
	b.SetBytes(wire.PacketHeaderLen + 100)
	n := 0
	for b.Loop() {
		_, p, err := pr.ReadPacket()
		if err != nil {
			b.Fatal(err)
		}
		sinkBytes = p
		n++
	}
	b.StopTimer()
	br := bufio.NewReaderSize(&loopReader{data: stream}, 64<<10)
	start := time.Now()
	for range n {
		p, err := naiveReadPacket(br)
		if err != nil {
			b.Fatal(err)
		}
		sinkBytes = p
	}
	b.ReportMetric(float64(b.Elapsed())/float64(max(time.Since(start), 1)), "x-vs-naive")
}

// naiveReadPacket reads one single-frame packet into a fresh slice.
func naiveReadPacket(r io.Reader) ([]byte, error) {
	var h [wire.PacketHeaderLen]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, err
	}
	p := make([]byte, binary.LittleEndian.Uint32(h[:])&0xffffff)
	_, err := io.ReadFull(r, p)
	return p, err
}
