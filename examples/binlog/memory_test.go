package binlog_test

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/examples/binlog"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/transport"
)

var (
	_ transport.Binlog = (*binlog.Memory)(nil)
	_ replica.RelayLog = (*binlog.Relay)(nil)
	_ replica.Syncer   = (*binlog.Relay)(nil)
)

func at(file string, off uint64) semisync.Position { return semisync.FilePos(file, off) }

// readAll reads a cursor up to the end of what is visible.
func readAll(t *testing.T, c transport.Cursor) []transport.Event {
	t.Helper()
	var evs []transport.Event
	for {
		ev, ok, err := c.Next()
		require.NoError(t, err)
		if !ok {
			return evs
		}
		evs = append(evs, transport.Event{Data: slices.Clone(ev.Data), End: ev.End}) // Data is valid until the next Next
	}
}

// ends returns the events' end positions.
func ends(evs []transport.Event) []semisync.Position {
	out := make([]semisync.Position, len(evs))
	for i, ev := range evs {
		out[i] = ev.End
	}
	return out
}

func TestMemoryPositions(t *testing.T) {
	m := binlog.NewMemory("bin")
	require.Equal(t, at("bin.000001", binlog.FirstOffset), m.Head())
	require.Equal(t, at("bin.000001", 9), m.Append([]byte("hello")))
	require.Equal(t, at("bin.000001", 9), m.Append(nil), "an empty event ends where the previous one did")
	require.Equal(t, at("bin.000001", 12), m.Append([]byte("abc")))
	require.Equal(t, at("bin.000002", binlog.FirstOffset), m.Rotate())
	require.Equal(t, at("bin.000002", binlog.FirstOffset), m.Head())
	require.Equal(t, at("bin.000002", 6), m.Append([]byte("xy")))
	require.Equal(t, 4, m.Len())
}

func TestMemoryPublish(t *testing.T) {
	m := binlog.NewMemory("binlog")
	c, err := m.Open(m.Head())
	require.NoError(t, err)
	defer c.Close()
	m.Append([]byte("one"))
	require.Empty(t, readAll(t, c), "appended but not published")
	select {
	case <-c.Wait():
		t.Fatal("woken before Publish")
	default:
	}
	m.Publish()
	select {
	case <-c.Wait(): // ready: Publish came after Next reported the end
	case <-time.After(time.Minute):
		t.Fatal("not woken by Publish")
	}
	evs := readAll(t, c)
	require.Equal(t, []transport.Event{{Data: []byte("one"), End: at("binlog.000001", 7)}}, evs)

	// The returned bytes are capped: appending to them cannot reach the
	// next event's bytes.
	m.Append([]byte("two"))
	m.Publish()
	_ = append(evs[0].Data, 'X')
	require.Equal(t, []transport.Event{{Data: []byte("two"), End: at("binlog.000001", 10)}}, readAll(t, c))
	require.Equal(t, []byte("one"), evs[0].Data)
}

func TestMemoryOpen(t *testing.T) {
	m := binlog.NewMemory("binlog")
	for _, s := range []string{"a", "bb", "ccc"} {
		m.Append([]byte(s))
	}
	m.Rotate()
	m.Append([]byte("dddd"))
	m.Publish()
	all := []semisync.Position{at("binlog.000001", 5), at("binlog.000001", 7), at("binlog.000001", 10), at("binlog.000002", 8)}
	cases := []struct {
		start semisync.Position
		want  []semisync.Position // nil: refused
	}{
		{semisync.Position{}, all},                      // the beginning
		{at("binlog.000001", 4), all},                   // the first file's start
		{at("binlog.000001", 5), all[1:]},               // an event's end
		{at("binlog.000001", 10), all[3:]},              // the end of a file
		{at("binlog.000002", 4), all[3:]},               // the next file's start
		{at("binlog.000002", 8), []semisync.Position{}}, // the end
		{at("binlog.000001", 6), nil},                   // inside an event
		{at("binlog.000001", 3), nil},                   // inside the magic bytes
		{at("binlog.000001", 11), nil},                  // past the end of a file
		{at("binlog.000002", 9), nil},                   // past the end
		{at("binlog.000001", 1<<40), nil},               // far past it
		{at("binlog.000003", 4), nil},                   // a file not written yet
		{at("binlog.000000", 4), nil},                   // before the first file
		{at("binlog.1", 4), nil},                        // another spelling of a file
		{at("binlog.-00001", 4), nil},                   // not a file number
		{at("other.000001", 4), nil},                    // another binlog
		{semisync.LSN(5), nil},                          // not a file position
	}
	for _, tc := range cases {
		t.Run(tc.start.String(), func(t *testing.T) {
			c, err := m.Open(tc.start)
			if tc.want == nil {
				require.ErrorIs(t, err, binlog.ErrUnknownPosition)
				return
			}
			require.NoError(t, err)
			defer c.Close()
			got := ends(readAll(t, c))
			require.Equal(t, tc.want, got)
		})
	}
}

// TestMemoryOpenUnpublished: a start at the end of an event appended but
// not yet published is refused, as is the first position of a file that
// follows one; Open once accepted them, although the source may not have
// been told of the event yet (Append, source.Flushed, Publish), so a
// replica could acknowledge it before it was reported.
func TestMemoryOpenUnpublished(t *testing.T) {
	m := binlog.NewMemory("binlog")
	first := m.Append([]byte("one"))
	m.Publish()
	unpublished := m.Append([]byte("two"))
	for _, start := range []semisync.Position{unpublished, m.Head()} {
		_, err := m.Open(start)
		require.ErrorIs(t, err, binlog.ErrUnknownPosition, "start %v", start)
		require.ErrorContains(t, err, "the published binlog ends at "+first.String())
	}
	rotated := m.Rotate() // the unpublished event stays before the new file
	_, err := m.Open(rotated)
	require.ErrorIs(t, err, binlog.ErrUnknownPosition)

	c, err := m.Open(first)
	require.NoError(t, err)
	defer c.Close()
	m.Publish()
	require.Equal(t, []semisync.Position{unpublished}, ends(readAll(t, c)))
	for _, start := range []semisync.Position{unpublished, rotated} {
		c, err := m.Open(start)
		require.NoError(t, err, "published now: %v", start)
		c.Close()
	}

	// An unpublished event first in its file: that file's start is before
	// it and may be opened; the event's end may not.
	next := m.Append([]byte("three"))
	c, err = m.Open(rotated)
	require.NoError(t, err)
	c.Close()
	_, err = m.Open(next)
	require.ErrorIs(t, err, binlog.ErrUnknownPosition)
	require.ErrorContains(t, err, "the published binlog ends at "+rotated.String())
}

func TestMemoryCursorClose(t *testing.T) {
	m := binlog.NewMemory("binlog")
	c, err := m.Open(m.Head())
	require.NoError(t, err)
	require.NoError(t, c.Close())
	require.NoError(t, c.Close(), "Close is idempotent")
	_, _, err = c.Next()
	require.ErrorIs(t, err, binlog.ErrClosed)
	m.Append([]byte("x"))
	m.Publish() // a closed cursor is no longer woken
	select {
	case <-c.Wait():
		t.Fatal("a closed cursor was woken")
	default:
	}
}

// TestMemoryConcurrent: one writer appends and publishes while cursors
// read by waiting on Wait; every reader gets every event, in order, with
// its bytes (run with -race).
func TestMemoryConcurrent(t *testing.T) {
	const n, readers = 2000, 4
	m := binlog.NewMemory("binlog")
	event := func(i int) []byte { return fmt.Appendf(nil, "event-%d", i) }
	var wg sync.WaitGroup
	got := make([][]transport.Event, readers)
	for r := range readers {
		c, err := m.Open(m.Head())
		require.NoError(t, err)
		wg.Go(func() {
			defer c.Close()
			for len(got[r]) < n {
				ev, ok, err := c.Next()
				if err != nil {
					return
				}
				if !ok {
					<-c.Wait()
					continue
				}
				got[r] = append(got[r], transport.Event{Data: append([]byte(nil), ev.Data...), End: ev.End})
			}
		})
	}
	var want []transport.Event
	for i := range n {
		end := m.Append(event(i))
		want = append(want, transport.Event{Data: event(i), End: end})
		if i%7 == 0 || i == n-1 {
			m.Publish()
		}
	}
	readersDone := make(chan struct{})
	go func() { wg.Wait(); close(readersDone) }()
	select {
	case <-readersDone:
	case <-time.After(time.Minute):
		t.Fatal("readers still wait after a minute: a Publish lost its wake-up")
	}
	for r := range readers {
		require.Equal(t, want, got[r], "reader %d", r)
	}
}

func TestRelay(t *testing.T) {
	var r binlog.Relay
	require.Equal(t, semisync.Position{}, r.Last())
	ev := []byte("one")
	require.NoError(t, r.Write(ev, at("b.000001", 7)))
	ev[0] = 'X' // Write copied the bytes
	require.Zero(t, r.Len(), "written, not flushed")
	require.Empty(t, r.Events())
	require.NoError(t, r.Flush())
	require.NoError(t, r.Sync())
	require.NoError(t, r.Write([]byte("two"), at("b.000001", 10)))
	require.Equal(t, []binlog.RelayEvent{{Data: []byte("one"), End: at("b.000001", 7)}}, r.Events())
	require.Equal(t, at("b.000001", 7), r.Last())

	// A connection that ends before the flush leaves "two" behind; the
	// next one resumes from Last and receives it again.
	r.Discard()
	require.NoError(t, r.Write([]byte("two"), at("b.000001", 10)))
	require.NoError(t, r.Flush())
	require.Equal(t, []binlog.RelayEvent{
		{Data: []byte("one"), End: at("b.000001", 7)},
		{Data: []byte("two"), End: at("b.000001", 10)},
	}, r.Events())
	require.Equal(t, 2, r.Len())
	flushes, syncs := r.Counts()
	require.Equal(t, 2, flushes)
	require.Equal(t, 1, syncs)
}

// A host appends a commit group, tells the source (Flushed), publishes it
// to the replicas' cursors, and a cursor reads it.
func ExampleMemory() {
	m := binlog.NewMemory("binlog")
	c, _ := m.Open(m.Head())
	defer c.Close()
	m.Append([]byte("BEGIN"))
	end := m.Append([]byte("COMMIT"))
	// ... src.Flushed(end) ...
	_, ok, _ := c.Next()
	fmt.Println("visible before Publish:", ok)
	m.Publish()
	for {
		ev, ok, _ := c.Next()
		if !ok {
			break
		}
		fmt.Printf("%s ends at %v\n", ev.Data, ev.End)
	}
	fmt.Println("group end:", end)
	// Output:
	// visible before Publish: false
	// BEGIN ends at binlog.000001:9
	// COMMIT ends at binlog.000001:15
	// group end: binlog.000001:15
}
