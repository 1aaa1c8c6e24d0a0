package relaylog_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/relaylog"
)

// modelItem is a record or sync mark the model expects in the file.
type modelItem struct {
	off, len int64
	mark     bool
	rec      relaylog.Record // a record's
}

// relayModel is what a File should have written: the items in the file,
// and what the last completed fsync covered.
type relayModel struct {
	items      []modelItem
	size       int64             // bytes in the file
	buffered   []relaylog.Record // written, not flushed
	syncedN    int64             // bytes Rewind keeps: to the last mark
	fsynced    int64             // bytes the last completed fsync covered (its mark follows)
	syncedRecs int               // records it covered
	stale      []byte            // the longest content the file ever had, for stale bytes
	written    map[string]bool   // every event ever flushed
}

func (m *relayModel) records() []relaylog.Record {
	var recs []relaylog.Record
	for _, it := range m.items {
		if !it.mark {
			recs = append(recs, it.rec)
		}
	}
	return recs
}

// noteContent keeps the file's bytes as the source of stale bytes.
func (m *relayModel) noteContent(t *rapid.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) >= len(m.stale) {
		m.stale = data
	} else {
		copy(m.stale, data)
	}
}

// TestRelayModel drives a File with random Writes, Flushes, Syncs and
// Rewinds, then simulates one of three crashes and checks what Open makes
// of the file against a model:
//
//   - a crash of the process keeps every flushed byte: Open cuts nothing
//     and every flushed record is there, in order;
//   - a power failure keeps the bytes up to the last completed fsync and
//     replaces the rest with any mix of zeros, junk, what was written
//     there and stale bytes of the file's earlier content: Open never
//     refuses, keeps every record that fsync covered, cuts only after it,
//     and keeps nothing that was never flushed;
//   - a bit flipped anywhere: damage before an intact sync mark is refused
//     at the damaged item's offset, damage after the last one is cut there.
//
// Nothing a surviving sync mark covers is ever dropped.
func TestRelayModel(t *testing.T) {
	dir := t.TempDir()
	n := 0
	rapid.Check(t, func(rt *rapid.T) {
		n++
		path := filepath.Join(dir, fmt.Sprintf("relay%d", n))
		f, _, err := relaylog.Open(path)
		if err != nil {
			rt.Fatal(err)
		}
		defer f.Close()
		m := &relayModel{size: 5, syncedN: 5, fsynced: 5, written: map[string]bool{}}
		end := uint64(4)
		// A Follower from the start sees exactly the fsynced records, and
		// its Wait channel is ready once more were fsynced.
		fl, err := f.Follow(semisync.Position{})
		require.NoError(rt, err)
		defer fl.Close()
		var followed []relaylog.Record
		wait, waitRecs := fl.Wait(), -1
		for i := range rapid.IntRange(0, 40).Draw(rt, "ops") {
			switch op := rapid.SampledFrom([]string{"write", "write", "write", "flush", "flush", "sync", "rewind", "follow"}).Draw(rt, "op"); op {
			case "follow":
				if m.syncedRecs > waitRecs {
					require.True(rt, ready(wait), "a Sync made records durable and did not wake the Follower")
				}
				followed = append(followed, drain(rt, fl)...)
				synced := m.records()[:m.syncedRecs]
				require.Equal(rt, append([]relaylog.Record{}, synced...), append([]relaylog.Record{}, followed...))
				wait, waitRecs = fl.Wait(), m.syncedRecs
				if len(synced) > 0 {
					k := rapid.IntRange(0, len(synced)-1).Draw(rt, "from")
					from := synced[k].End
					for k+1 < len(synced) && synced[k+1].End == from {
						k++
					}
					other, err := f.Follow(from)
					require.NoError(rt, err)
					require.Equal(rt, append([]relaylog.Record{}, synced[k+1:]...), append([]relaylog.Record{}, drain(rt, other)...))
					require.NoError(rt, other.Close())
				}
			case "write":
				end += uint64(rapid.IntRange(0, 100).Draw(rt, "advance"))
				rec := relaylog.Record{
					End:   semisync.FilePos(firstBinlog, end),
					Event: event(fmt.Sprintf("ev %d", i), rapid.IntRange(5, 60).Draw(rt, "len")),
				}
				require.NoError(rt, f.Write(rec.Event, rec.End))
				m.buffered = append(m.buffered, rec)
			case "flush":
				require.NoError(rt, f.Flush())
				for _, rec := range m.buffered {
					m.items = append(m.items, modelItem{off: m.size, len: recordLen(rec), rec: rec})
					m.size += recordLen(rec)
					m.written[string(rec.Event)] = true
				}
				m.buffered = nil
			case "sync":
				require.NoError(rt, f.Sync())
				last := len(m.items) - 1
				if last >= 0 && !m.items[last].mark {
					m.fsynced, m.syncedRecs = m.size, len(m.records())
					m.items = append(m.items, modelItem{off: m.size, len: markLen, mark: true})
					m.size += markLen
					m.syncedN = m.size
				}
			case "rewind":
				m.noteContent(rt, path)
				_, err := f.Rewind()
				require.NoError(rt, err)
				m.buffered = nil
				for len(m.items) > 0 && m.items[len(m.items)-1].off >= m.syncedN {
					m.items = m.items[:len(m.items)-1]
				}
				m.size = m.syncedN
				if end = 4; len(m.records()) > 0 {
					end = m.records()[len(m.records())-1].End.Offset()
				}
			}
		}
		require.NoError(rt, f.Close()) // drops the buffer, as a crash would
		data, err := os.ReadFile(path)
		require.NoError(rt, err)
		require.Equal(rt, m.size, int64(len(data)))
		for _, it := range m.items {
			if it.mark {
				requireMarkAt(rt, data, it.off)
			}
		}
		m.noteContent(rt, path)

		switch crash := rapid.SampledFrom([]string{"process", "power", "bit"}).Draw(rt, "crash"); crash {
		case "process":
			rec := requireModelOpen(rt, path, m.records(), nil)
			require.False(rt, rec.Cut(), "%v", rec)
		case "power":
			bad := slices.Clone(data[:m.fsynced])
			length := int(m.fsynced) + rapid.IntRange(0, len(data)-int(m.fsynced)+100).Draw(rt, "length")
			for len(bad) < length {
				k := rapid.IntRange(1, 64).Draw(rt, "segment")
				at := len(bad)
				switch rapid.SampledFrom([]string{"zeros", "junk", "written", "stale"}).Draw(rt, "kind") {
				case "zeros":
					bad = append(bad, make([]byte, k)...)
				case "junk":
					bad = append(bad, rapid.SliceOfN(rapid.Byte(), k, k).Draw(rt, "junk")...)
				case "written":
					bad = append(bad, data[min(at, len(data)):min(at+k, len(data))]...)
				case "stale":
					bad = append(bad, m.stale[min(at, len(m.stale)):min(at+k, len(m.stale))]...)
				}
				if len(bad) == at {
					break // nothing there to copy
				}
			}
			require.NoError(rt, os.WriteFile(path, bad, 0o644))
			recs := m.records()
			rec := requireModelOpen(rt, path, recs[:m.syncedRecs], func(kept []relaylog.Record) {
				for _, r := range kept[m.syncedRecs:] {
					require.True(rt, m.written[string(r.Event)], "a record kept that was never flushed: %q", r.Event)
				}
			})
			if rec.Cut() {
				require.GreaterOrEqual(rt, rec.CutAt, m.fsynced, "a cut inside what the last fsync covered")
			}
		case "bit":
			at := rapid.IntRange(0, len(data)-1).Draw(rt, "byte")
			bad := slices.Clone(data)
			bad[at] ^= 1 << rapid.IntRange(0, 7).Draw(rt, "bit")
			require.NoError(rt, os.WriteFile(path, bad, 0o644))
			if at < 5 {
				_, _, err := relaylog.Open(path)
				require.ErrorIs(rt, err, relaylog.ErrNotRelayLog)
				requireFileIs(rt, path, bad)
				return
			}
			k := 0
			for m.items[k].off+m.items[k].len <= int64(at) {
				k++
			}
			damaged := m.items[k]
			proven := int64(-1) // the last intact mark
			for i, it := range m.items {
				if it.mark && i != k {
					proven = it.off
				}
			}
			if damaged.off < proven {
				_, _, err := relaylog.Open(path)
				var ce *relaylog.CorruptError
				require.ErrorAs(rt, err, &ce)
				require.Equal(rt, damaged.off, ce.Offset)
				require.ErrorIs(rt, relaylog.Read(path, readNothing), relaylog.ErrCorrupt)
				requireFileIs(rt, path, bad)
				return
			}
			var before []relaylog.Record
			for _, it := range m.items[:k] {
				if !it.mark {
					before = append(before, it.rec)
				}
			}
			rec := requireModelOpen(rt, path, before, func(kept []relaylog.Record) {
				require.Len(rt, kept, len(before))
			})
			require.True(rt, rec.Cut())
			require.Equal(rt, damaged.off, rec.CutAt)
		}
	})
}

// requireModelOpen opens the file at path and expects its records to start
// with want; more checks the whole list. It returns the Recovery, which
// must agree with Check's and Read's view and never cut before an intact
// mark.
func requireModelOpen(t *rapid.T, path string, want []relaylog.Record, more func([]relaylog.Record)) relaylog.Recovery {
	rep, err := relaylog.Check(path, nil)
	require.NoError(t, err)
	var read []relaylog.Record
	readErr := relaylog.Read(path, func(r relaylog.Record) error {
		read = append(read, relaylog.Record{End: r.End, Event: slices.Clone(r.Event)})
		return nil
	})
	f, rec, err := relaylog.Open(path)
	if err != nil {
		var ce *relaylog.CorruptError
		if errors.As(err, &ce) {
			t.Fatalf("refused: %v (Check: %+v)", err, rep)
		}
		t.Fatal(err)
	}
	defer f.Close()
	require.NoError(t, readErr)
	require.Equal(t, rep.Recovery, rec)
	if rec.Cut() && rec.Proven > 0 {
		require.GreaterOrEqual(t, rec.CutAt, rec.Proven+markLen)
	}
	kept := readRecords(t, path)
	require.Equal(t, len(read), len(kept), "Read before Open saw what Open kept")
	if len(read) > 0 {
		require.Equal(t, read, kept)
	}
	require.GreaterOrEqual(t, len(kept), len(want))
	if len(want) > 0 {
		require.Equal(t, want, kept[:len(want)])
	}
	if more != nil {
		more(kept)
	}
	return rec
}
