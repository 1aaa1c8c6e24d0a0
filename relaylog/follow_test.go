package relaylog_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/relaylog"
)

// follow starts a Follower from from and closes it when the test ends.
func follow(t testing.TB, r *relaylog.File, from semisync.Position) *relaylog.Follower {
	t.Helper()
	fl, err := r.Follow(from)
	require.NoError(t, err)
	t.Cleanup(func() { fl.Close() })
	return fl
}

// drain returns copies of the records fl returns until it reports the
// end.
func drain(t testingT, fl *relaylog.Follower) []relaylog.Record {
	t.Helper()
	var recs []relaylog.Record
	for {
		r, ok, err := fl.Next()
		require.NoError(t, err)
		if !ok {
			return recs
		}
		recs = append(recs, relaylog.Record{End: r.End, Event: slices.Clone(r.Event)})
	}
}

// ready reports whether ch is ready.
func ready(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// A Follower returns the fsynced records only, and its Wait channel is
// made ready by the Sync that makes more durable, not by a Write or a
// Flush.
func TestFollowSyncedOnly(t *testing.T) {
	r := openRelay(t, filepath.Join(t.TempDir(), "relay"))
	recs := relayRecords(6)
	fl := follow(t, r, semisync.Position{})
	require.Empty(t, drain(t, fl))
	writeFlush(t, r, recs[:3]...)
	require.NoError(t, r.Sync())
	require.Equal(t, recs[:3], drain(t, fl))
	wait := fl.Wait()
	require.False(t, ready(wait))

	writeFlush(t, r, recs[3:5]...)
	require.NoError(t, r.Write(recs[5].Event, recs[5].End))
	require.False(t, ready(wait), "a Flush makes nothing durable")
	require.Empty(t, drain(t, fl), "flushed, not fsynced")
	require.NoError(t, r.Sync())
	require.True(t, ready(wait), "the Sync wakes the Follower")
	require.Equal(t, recs[3:5], drain(t, fl))

	// A Rewind cuts only what no Follower was given.
	require.NoError(t, r.Flush())
	pos, err := r.Rewind()
	require.NoError(t, err)
	require.Equal(t, recs[4].End, pos)
	require.Empty(t, drain(t, fl))
	require.Equal(t, recs[4].End, fl.Last())
}

// Follow starts after the records ending at from, and refuses a from the
// file does not hold as a fsynced record's end.
func TestFollowFrom(t *testing.T) {
	r := openRelay(t, filepath.Join(t.TempDir(), "relay"))
	recs := relayRecords(4)
	// Two records end where the second does, as a heartbeat's would.
	same := relaylog.Record{End: recs[1].End, Event: event("same end", 19)}
	all := []relaylog.Record{recs[0], recs[1], same, recs[2], recs[3]}
	writeFlush(t, r, all[:4]...)
	require.NoError(t, r.Sync())
	writeFlush(t, r, all[4]) // not fsynced

	require.Equal(t, all[:4], drain(t, follow(t, r, semisync.Position{})))
	require.Equal(t, all[1:4], drain(t, follow(t, r, recs[0].End)))
	require.Equal(t, all[3:4], drain(t, follow(t, r, recs[1].End)), "after both records ending there")
	fl := follow(t, r, recs[2].End)
	require.Empty(t, drain(t, fl), "from the durable end")
	require.Equal(t, recs[2].End, fl.Last())

	for _, from := range []semisync.Position{
		semisync.FilePos(firstBinlog, recs[1].End.Offset()-1), // inside a record
		semisync.FilePos(firstBinlog, 4),                      // before the first record's end
		recs[3].End,                                           // flushed, not fsynced
		semisync.FilePos(secondBinlog, 4),                     // a file it does not hold
		semisync.LSN(recs[1].End.Offset()),                    // an LSN where records have files
	} {
		_, err := r.Follow(from)
		require.ErrorIs(t, err, relaylog.ErrUnknownPosition, "from %v", from)
	}
}

// Damage to what the file had fsynced, made after a Follower started, is a
// *CorruptError with the offset, never records skipped or made up.
func TestFollowCorrupt(t *testing.T) {
	recs := relayRecords(5)
	path, data, starts := relayWithRecords(t, recs)
	r := openRelay(t, path)
	fl := follow(t, r, semisync.Position{})
	bad := slices.Clone(data)
	bad[starts[3]+markLen+3] ^= 0x10 // in the body of the fourth record (a header is as long as a mark)
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteAt(bad, 0)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	for i := range 3 {
		rec, ok, err := fl.Next()
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, recs[i], relaylog.Record{End: rec.End, Event: slices.Clone(rec.Event)})
	}
	_, ok, err := fl.Next()
	require.False(t, ok)
	var ce *relaylog.CorruptError
	require.ErrorAs(t, err, &ce)
	require.Equal(t, starts[3], ce.Offset)
	require.ErrorIs(t, err, relaylog.ErrCorrupt)
}

// Close of the File wakes its Followers, whose Next then says ErrClosed;
// Follow on a closed File fails; a Follower's Close is idempotent.
func TestFollowClosed(t *testing.T) {
	r, _, err := relaylog.Open(filepath.Join(t.TempDir(), "relay"))
	require.NoError(t, err)
	fl, err := r.Follow(semisync.Position{})
	require.NoError(t, err)
	require.True(t, ready(fl.Wait()), "ready before the first Next")
	require.Empty(t, drain(t, fl))
	wait := fl.Wait()
	require.NoError(t, r.Close())
	require.True(t, ready(wait))
	_, _, err = fl.Next()
	require.ErrorIs(t, err, relaylog.ErrClosed)
	require.NoError(t, fl.Close())
	require.NoError(t, fl.Close())
	_, _, err = fl.Next()
	require.ErrorIs(t, err, relaylog.ErrClosed)
	_, err = r.Follow(semisync.Position{})
	require.ErrorIs(t, err, relaylog.ErrClosed)
}

// A Follower on a reopened file reads what recovery kept, records longer
// than its read window included, and follows what is appended after.
func TestFollowReopenedLargeRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relay")
	r := openRelay(t, path)
	var recs []relaylog.Record
	end := uint64(4)
	for i, n := range []int{100, 200 << 10, 31, 70 << 10, 64 << 10, 5} {
		end += uint64(n)
		recs = append(recs, relaylog.Record{End: semisync.FilePos(firstBinlog, end), Event: event(string(rune('a'+i)), n)})
	}
	writeFlush(t, r, recs[:4]...)
	require.NoError(t, r.Sync())
	require.NoError(t, r.Close())
	r = openRelay(t, path)
	fl := follow(t, r, semisync.Position{})
	require.Equal(t, recs[:4], drain(t, fl))
	writeFlush(t, r, recs[4:]...)
	require.NoError(t, r.Sync())
	require.Equal(t, recs[4:], drain(t, fl))
}

// Followers read alongside a writer that writes, flushes and syncs: each
// sees every record in order, waking on its Wait channel, and never one
// that was not fsynced when it read it.
func TestFollowConcurrentWriter(t *testing.T) {
	r := openRelay(t, filepath.Join(t.TempDir(), "relay"))
	recs := relayRecords(500)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const followers = 3
	got := make(chan []relaylog.Record, followers)
	errc := make(chan error, followers+1)
	for range followers {
		fl := follow(t, r, semisync.Position{})
		go func() {
			var seen []relaylog.Record
			for len(seen) < len(recs) {
				rec, ok, err := fl.Next()
				if err != nil {
					errc <- err
					return
				}
				if !ok {
					select {
					case <-fl.Wait():
					case <-ctx.Done():
						errc <- ctx.Err()
						return
					}
					continue
				}
				if synced := r.Synced(); synced.Less(rec.End) {
					errc <- &relaylog.CorruptError{Reason: "a record returned before it was fsynced"}
					return
				}
				seen = append(seen, relaylog.Record{End: rec.End, Event: slices.Clone(rec.Event)})
			}
			got <- seen
		}()
	}
	go func() {
		for i, rec := range recs {
			if err := r.Write(rec.Event, rec.End); err != nil {
				errc <- err
				return
			}
			if i%3 == 2 || i == len(recs)-1 {
				if err := r.Flush(); err != nil {
					errc <- err
					return
				}
			}
			if i%7 == 6 || i == len(recs)-1 {
				if err := r.Sync(); err != nil {
					errc <- err
					return
				}
			}
		}
	}()
	for range followers {
		select {
		case seen := <-got:
			require.Equal(t, recs, seen)
		case err := <-errc:
			require.NoError(t, err)
		case <-ctx.Done():
			t.Fatal("the followers did not see every record within a minute")
		}
	}
}

// In steady state a Follower allocates nothing per record, across read
// windows too.
func TestFollowAllocs(t *testing.T) {
	r := openRelay(t, filepath.Join(t.TempDir(), "relay"))
	var recs []relaylog.Record
	for i := range 2000 {
		recs = append(recs, relaylog.Record{End: semisync.FilePos(firstBinlog, uint64(4+1000*(i+1))), Event: event("row", 1000)})
	}
	writeFlush(t, r, recs...)
	require.NoError(t, r.Sync())
	fl := follow(t, r, semisync.Position{})
	_, _, err := fl.Next() // the first window
	require.NoError(t, err)
	allocs := testing.AllocsPerRun(1500, func() { // some 20 windows
		if _, ok, err := fl.Next(); !ok || err != nil {
			t.Fatalf("Next: %v %v", ok, err)
		}
	})
	require.Zero(t, allocs)
}

// A Follower started at the durable end passes over records fsynced later
// that end there too, as the first record it returns must end after from.
func TestFollowSameEndLater(t *testing.T) {
	r := openRelay(t, filepath.Join(t.TempDir(), "relay"))
	recs := relayRecords(3)
	writeFlush(t, r, recs[:2]...)
	require.NoError(t, r.Sync())
	for _, from := range []semisync.Position{recs[1].End, recs[0].End} {
		fl := follow(t, r, from)
		if from == recs[0].End {
			require.Equal(t, recs[1:2], drain(t, fl))
		}
		require.Empty(t, drain(t, fl))
	}
	fl := follow(t, r, recs[1].End)
	require.Empty(t, drain(t, fl))
	again := relaylog.Record{End: recs[1].End, Event: event("same end, later", 20)}
	writeFlush(t, r, again, recs[2])
	require.NoError(t, r.Sync())
	require.Equal(t, recs[2:], drain(t, fl), "not the record ending at from")
	other := follow(t, r, recs[1].End) // found by reading from the start
	require.Equal(t, recs[2:], drain(t, other))
}

// Follow refuses a path that is no longer the File's: renamed away and
// replaced by another file.
func TestFollowReplacedFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "relay")
	r := openRelay(t, path)
	writeFlush(t, r, relayRecords(2)...)
	require.NoError(t, r.Sync())
	require.NoError(t, os.Rename(path, filepath.Join(dir, "moved")))
	other := openRelay(t, path)
	writeFlush(t, other, relayRecords(5)...)
	require.NoError(t, other.Sync())
	_, err := r.Follow(semisync.Position{})
	require.ErrorContains(t, err, "no longer the file being written")
	require.Len(t, drain(t, follow(t, other, semisync.Position{})), 5)
}
