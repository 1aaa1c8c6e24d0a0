package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/relaylog"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/status"
)

// A replica's relay log after a power failure that lost the last sync mark
// (it is fsynced only by the next Sync) and damaged the record before it:
// the one case a relay log cannot tell from a torn write. Opening it cuts
// the record and says so; the replica resumes from the shorter position,
// announces it to the source on its next connection (the source's ledger
// shows it as the replica's start), and the program prints the recovery
// line.
func TestClusterRelayCutResumesShorter(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	require.Equal(t, 0, run(context.Background(), &out, &errOut, []string{"-duration", "200ms", "-timeout", "300ms", "-committers", "2", "-dir", dir}), errOut.String())
	require.NotContains(t, out.String(), "recovered:", "a clean first run cuts nothing")

	// Replica 2's last fsynced record, R, and the end of the one before.
	path := filepath.Join(dir, "replica2", "relay.log")
	var items []relaylog.Item
	rep, err := relaylog.Check(path, func(it relaylog.Item) error {
		it.Record.Event = nil
		items = append(items, it)
		return nil
	})
	require.NoError(t, err)
	require.True(t, rep.Whole())
	last := -1 // R's index: the last record followed by a mark
	for i := len(items) - 1; i > 0 && last < 0; i-- {
		if items[i].Mark && !items[i-1].Mark {
			last = i - 1
		}
	}
	require.Positive(t, last)
	var before semisync.Position // the end of the record before R
	for _, it := range items[:last] {
		if !it.Mark {
			before = it.Record.End
		}
	}
	require.False(t, before.IsZero())
	require.True(t, before.Less(items[last].Record.End), "R advances the position")

	// The power failure: R's mark and everything after it lost, one of
	// R's bytes damaged.
	r := items[last]
	require.NoError(t, os.Truncate(path, r.Offset+r.Len))
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	require.NoError(t, err)
	b := make([]byte, 1)
	_, err = f.ReadAt(b, r.Offset+r.Len-1)
	require.NoError(t, err)
	b[0] ^= 0x01
	_, err = f.WriteAt(b, r.Offset+r.Len-1)
	require.NoError(t, err)
	require.NoError(t, f.Close())

	_, reg, err := parse(io.Discard, []string{"-timeout", "2s"})
	require.NoError(t, err)
	c, err := start(dir, reg, 3)
	require.NoError(t, err)
	defer c.close()
	n := c.nodes[1]
	require.True(t, n.recovered.Cut())
	require.Equal(t, r.Offset, n.recovered.CutAt)
	require.Equal(t, r.Len, n.recovered.CutBytes)
	require.Equal(t, before, n.recovered.End)
	require.Equal(t, before, n.resumedAt, "the replica resumes from the shorter position")
	require.False(t, c.nodes[0].recovered.Cut())

	require.NoError(t, c.waitClients(3))
	var announced semisync.Position
	for _, e := range c.src.Snapshot().Replicas {
		if e.ID == n.id {
			announced = e.Start
		}
	}
	require.Equal(t, before, announced, "the source's ledger has the shorter start")

	var w bytes.Buffer
	c.printRecovery(&w, true, 0)
	for i := range c.nodes {
		c.printRecovery(&w, false, i)
	}
	require.Equal(t, fmt.Sprintf("replica 2 relay log recovered: %v\n", n.recovered), w.String())
	require.Contains(t, w.String(), fmt.Sprintf("cut %d bytes from byte %d (a checksum mismatch)", r.Len, r.Offset))
}

// The program prints what recovery cut from a file left in -dir, and
// nothing when it cut nothing (TestClusterRuns).
func TestClusterPrintsRecovery(t *testing.T) {
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	args := []string{"-duration", "200ms", "-timeout", "300ms", "-committers", "2", "-dir", dir}
	require.Equal(t, 0, run(context.Background(), &out, &errOut, args), errOut.String())
	path := filepath.Join(dir, "replica3", "relay.log")
	fi, err := os.Stat(path)
	require.NoError(t, err)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte("junk a crash left after the last fsync"))
	require.NoError(t, err)
	require.NoError(t, f.Close())

	out.Reset()
	require.Equal(t, 0, run(context.Background(), &out, &errOut, args), errOut.String())
	require.Contains(t, out.String(), fmt.Sprintf("\nreplica 3 relay log recovered: relaylog: %s: cut 38 bytes from byte %d", path, fi.Size()))
	require.Equal(t, 1, bytes.Count(out.Bytes(), []byte("recovered:")), out.String())
}

// A replica that comes back, while the source runs, without part of what
// it acknowledged (its relay log cut, or restored from an older copy): the
// replica resumes from where its file ends, and the source reports it as
// a regression — the counter, the replica's ledger row — rather than
// taking the shorter start as just another start.
func TestClusterSourceSeesReplicaRegress(t *testing.T) {
	dir := t.TempDir()
	_, reg, err := parse(io.Discard, []string{"-timeout", "10s"})
	require.NoError(t, err)
	c, err := start(dir, reg, 3)
	require.NoError(t, err)
	defer c.close()
	require.NoError(t, c.waitClients(3))

	n := c.nodes[1]
	row := func() status.ReplicaSnapshot {
		for _, r := range c.src.Snapshot().Replicas {
			if r.ID == n.id {
				return r
			}
		}
		t.Fatalf("replica %d is not in the ledger", n.id)
		return status.ReplicaSnapshot{}
	}
	// Commit one at a time until replica 2 has acknowledged a commit after
	// the first, so that there is something before it to fall back to.
	for i := 0; row().Acks < 2; i++ {
		require.Less(t, i, 1000, "replica 2 acknowledged %d commits in 1000", row().Acks)
		res, err := c.pipe.Commit(context.Background(), fmt.Appendf(nil, "tx-%d", i))
		require.NoError(t, err)
		require.Equal(t, source.Acknowledged, res.Wait.Outcome)
	}
	require.NoError(t, c.stopReplica(1))
	acked := row().Acked
	require.NoError(t, c.waitClients(2))

	// Cut the relay log at the first record that reaches what it
	// acknowledged.
	var cut int64 = -1
	_, err = relaylog.Check(n.path, func(it relaylog.Item) error {
		if cut < 0 && !it.Mark && it.Record.End.Compare(acked) >= 0 {
			cut = it.Offset
		}
		return nil
	})
	require.NoError(t, err)
	require.Positive(t, cut)
	require.NoError(t, os.Truncate(n.path, cut))

	require.NoError(t, c.startReplica(1))
	require.NoError(t, c.waitClients(3))
	require.True(t, n.resumedAt.Less(acked), "resumed at %v, acknowledged %v", n.resumedAt, acked)
	require.Equal(t, uint64(1), c.src.Snapshot().ReplicaRegressions)
	r := row()
	require.Equal(t, uint64(1), r.Regressions)
	require.Equal(t, acked, r.RegressedFrom)
	require.Equal(t, n.resumedAt, r.RegressedTo)
	for _, other := range c.src.Snapshot().Replicas {
		if other.ID != n.id {
			require.Zero(t, other.Regressions, "replica %d", other.ID)
		}
	}
}
