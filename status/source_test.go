package status_test

import (
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/status"
)

func TestZeroSource(t *testing.T) {
	var s status.Source
	snap := s.Snapshot()
	require.False(t, snap.Status)
	require.Zero(t, snap.Clients)
	require.Zero(t, snap.WaitLatency.Count)
	require.Empty(t, snap.Replicas)
	for _, r := range snap.Rows(semisync.FlavorMySQL) {
		if r.Name == "Rpl_semi_sync_source_status" {
			require.Equal(t, "OFF", r.Value)
		} else {
			require.Equal(t, "0", r.Value, r.Name)
		}
	}
}

func TestAddAndValue(t *testing.T) {
	var s status.Source
	require.Equal(t, uint64(3), s.Add(status.YesTx, 3))
	require.Equal(t, uint64(5), s.Add(status.YesTx, 2))
	require.Equal(t, uint64(5), s.Value(status.YesTx))
	require.Equal(t, uint64(5), s.Snapshot().YesTx)
}

func TestGaugeFloorsAtZero(t *testing.T) {
	tests := []struct {
		name   string
		deltas []int64
		want   uint64
	}{
		{"decrement from zero", []int64{-1}, 0},
		{"below zero then up", []int64{1, -3, 1}, 1},
		{"balanced", []int64{1, 1, -1}, 1},
		{"large negative", []int64{5, -1 << 62}, 0},
	}
	for _, c := range []status.Counter{status.Clients, status.WaitSessions} {
		for _, tt := range tests {
			t.Run(c.String()+"/"+tt.name, func(t *testing.T) {
				var s status.Source
				for _, d := range tt.deltas {
					s.Add(c, d)
				}
				require.Equal(t, tt.want, s.Value(c))
			})
		}
	}
}

func TestWaitSessionsAfterResetMaster(t *testing.T) {
	// A session waits, RESET MASTER zeroes wait_sessions, then the session
	// stops waiting: MySQL's guard keeps the gauge at 0.
	var s status.Source
	s.Add(status.WaitSessions, 1)
	s.ResetMaster()
	require.Equal(t, uint64(0), s.Add(status.WaitSessions, -1))
	require.Equal(t, uint64(0), s.Snapshot().WaitSessions)
}

func TestResetMaster(t *testing.T) {
	var s status.Source
	all := []status.Counter{
		status.Clients, status.YesTx, status.NoTx, status.NoTimes, status.TimefuncFailures,
		status.WaitPosBacktraverse, status.WaitSessions, status.TxWaits, status.TxWaitTime,
		status.NetWaits, status.NetWaitTime, status.WaitTimeouts, status.RequestAck, status.GetAck,
		status.StartsRefused, status.ReplicaRegressions,
	}
	for i, c := range all {
		s.Add(c, int64(i+1))
	}
	s.SwitchOff(status.ReasonTimeout)
	s.SetStatus(true)
	s.WaitLatency.Record(time.Millisecond)
	s.Replicas.Join(1, semisync.LSN(5), time.Unix(1, 0))

	s.ResetMaster()

	kept := map[status.Counter]bool{
		status.Clients: true, status.WaitTimeouts: true, status.RequestAck: true, status.GetAck: true,
		status.StartsRefused: true, status.ReplicaRegressions: true,
	}
	for i, c := range all {
		if kept[c] {
			require.Equal(t, uint64(i+1), s.Value(c), "%v must survive RESET MASTER", c)
		} else {
			require.Zero(t, s.Value(c), "%v must be zeroed by RESET MASTER", c)
		}
	}
	snap := s.Snapshot()
	require.True(t, snap.Status, "RESET MASTER leaves status alone")
	require.Equal(t, [status.NumSwitchOffReasons]uint64{}, snap.SwitchOffs)
	require.Equal(t, uint64(1), snap.WaitLatency.Count)
	require.Len(t, snap.Replicas, 1)
}

func TestSwitchOff(t *testing.T) {
	var s status.Source
	s.SetStatus(true)
	require.True(t, s.Status())
	s.SwitchOff(status.ReasonTimeout)
	s.SwitchOff(status.ReasonTimeout)
	s.SwitchOff(status.ReasonDisabled)
	s.SwitchOff(status.SwitchOffReason(200)) // undefined: counted as internal

	snap := s.Snapshot()
	require.False(t, snap.Status)
	require.Equal(t, uint64(4), snap.NoTimes)
	var want [status.NumSwitchOffReasons]uint64
	want[status.ReasonTimeout] = 2
	want[status.ReasonDisabled] = 1
	want[status.ReasonInternal] = 1
	require.Equal(t, want, snap.SwitchOffs)
}

func TestRecordTxWait(t *testing.T) {
	var s status.Source
	s.RecordTxWait(1500 * time.Nanosecond) // 1 µs, truncated
	s.RecordTxWait(2 * time.Millisecond)
	s.RecordTxWait(-time.Microsecond) // clock went backwards
	snap := s.Snapshot()
	require.Equal(t, uint64(2), snap.TxWaits)
	require.Equal(t, 2001*time.Microsecond, snap.TxWaitTime)
	require.Equal(t, uint64(1), snap.TimefuncFailures)
	require.Equal(t, 1000*time.Microsecond, snap.TxAvgWaitTime())
	require.Zero(t, snap.WaitLatency.Count, "RecordTxWait leaves the histogram to the caller")
}

func TestBatchMisuseIsHarmless(t *testing.T) {
	var s status.Source
	var kept status.Batch
	s.Update(func(b status.Batch) {
		b.Add(status.TxWaits, 1)
		kept = b
	})
	// A Batch kept past its Update still records, ungrouped, and breaks
	// nothing.
	require.Equal(t, uint64(2), kept.Add(status.TxWaits, 1))

	var zero status.Batch
	require.Zero(t, zero.Add(status.YesTx, 1))
	zero.SetStatus(true)
	zero.SwitchOff(status.ReasonTimeout)

	// A panic inside Update releases the lock.
	require.Panics(t, func() {
		s.Update(func(b status.Batch) {
			b.Add(status.TxWaitTime, 10)
			panic("host bug")
		})
	})

	require.Zero(t, s.Add(status.Counter(200), 1), "undefined counter is ignored")
	require.Zero(t, s.Value(status.Counter(200)))

	snap := s.Snapshot() // would deadlock if the panic had kept the lock
	require.Equal(t, uint64(2), snap.TxWaits)
	require.Equal(t, 10*time.Microsecond, snap.TxWaitTime)
	require.False(t, snap.Status)
	require.Zero(t, snap.NoTimes)
	s.ResetMaster()
	require.Zero(t, s.Snapshot().TxWaits)
}

func TestCounterAndReasonStrings(t *testing.T) {
	require.Equal(t, "yes_tx", status.YesTx.String())
	require.Equal(t, "tx_wait_time", status.TxWaitTime.String())
	require.Equal(t, "wait_timeouts", status.WaitTimeouts.String())
	require.Equal(t, "starts_refused", status.StartsRefused.String())
	require.Equal(t, "replica_regressions", status.ReplicaRegressions.String())
	require.Equal(t, "Counter(200)", status.Counter(200).String())
	require.False(t, status.Counter(200).Valid())
	require.Equal(t, "wait_no_replica", status.ReasonWaitNoReplica.String())
	require.Equal(t, "SwitchOffReason(9)", status.SwitchOffReason(9).String())
	require.False(t, status.SwitchOffReason(status.NumSwitchOffReasons).Valid())
	require.True(t, status.ReasonDisabled.Valid())
}

// TestSnapshotSeesBatchesWhole is the test that fails without the cut lock:
// writers always add 1 to TxWaits and 10 µs to TxWaitTime in one batch
// (and SwitchOff moves NoTimes with a reason count), and every snapshot must
// see the pairs in step.
func TestSnapshotSeesBatchesWhole(t *testing.T) {
	const writers, perWriter = 4, 20000
	var s status.Source
	var wg sync.WaitGroup
	var done atomic.Bool
	start := make(chan struct{})
	for w := range writers {
		wg.Go(func() {
			<-start
			for i := range perWriter {
				s.Update(func(b status.Batch) {
					b.Add(status.TxWaits, 1)
					b.Add(status.TxWaitTime, 10)
				})
				if i%64 == 0 {
					s.SwitchOff(status.SwitchOffReason(w % status.NumSwitchOffReasons))
				}
			}
		})
	}
	go func() { wg.Wait(); done.Store(true) }()

	var snap status.SourceSnapshot
	checks := 0
	close(start)
	for !done.Load() || checks == 0 {
		s.SnapshotInto(&snap)
		require.Equal(t, time.Duration(snap.TxWaits)*10*time.Microsecond, snap.TxWaitTime,
			"TxWaits and TxWaitTime out of step")
		var sum uint64
		for _, n := range snap.SwitchOffs {
			sum += n
		}
		require.Equal(t, snap.NoTimes, sum, "NoTimes and SwitchOffs out of step")
		checks++
	}
	s.SnapshotInto(&snap)
	require.Equal(t, uint64(writers*perWriter), snap.TxWaits)
	require.Equal(t, time.Duration(writers*perWriter)*10*time.Microsecond, snap.TxWaitTime)
}

// TestSnapshotFinishesUnderBusyWriters runs many more recording goroutines
// than CPUs, each in a tight loop, while the test takes snapshots. A design
// where a snapshot waits for a moment with no batch open starves here (a
// single snapshot took seconds to forever); with the cut lock every
// snapshot gets its turn, and the writers only stop once the reader is done.
func TestSnapshotFinishesUnderBusyWriters(t *testing.T) {
	writers := 16 * runtime.GOMAXPROCS(0)
	var s status.Source
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range writers {
		wg.Go(func() {
			for !stop.Load() {
				s.RecordTxWait(10 * time.Microsecond)
				s.Add(status.YesTx, 1)
			}
		})
	}
	var snap status.SourceSnapshot
	for range 200 {
		s.SnapshotInto(&snap)
		require.Equal(t, time.Duration(snap.TxWaits)*10*time.Microsecond, snap.TxWaitTime)
	}
	stop.Store(true)
	wg.Wait()
}

// TestResetMasterNeverSplitsABatch resets while writers record pairs: a
// reset that landed between the two updates of a batch would leave the pair
// out of step for good.
func TestResetMasterNeverSplitsABatch(t *testing.T) {
	var s status.Source
	var stop atomic.Bool
	var wg sync.WaitGroup
	for range 4 * runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for !stop.Load() {
				s.RecordTxWait(10 * time.Microsecond)
				s.SwitchOff(status.ReasonTimeout)
			}
		})
	}
	for range 2000 {
		s.ResetMaster()
	}
	stop.Store(true)
	wg.Wait()
	snap := s.Snapshot()
	require.Equal(t, time.Duration(snap.TxWaits)*10*time.Microsecond, snap.TxWaitTime)
	require.Equal(t, snap.NoTimes, snap.SwitchOffs[status.ReasonTimeout])
}

func TestSnapshotIntoDoesNotAllocate(t *testing.T) {
	var s status.Source
	for id := range semisync.ReplicaID(3) {
		s.Replicas.Join(id, semisync.FilePos("binlog.000001", 4), time.Unix(1, 0))
	}
	s.Add(status.YesTx, 1)
	var snap status.SourceSnapshot
	s.SnapshotInto(&snap) // sizes snap.Replicas
	allocs := testing.AllocsPerRun(100, func() { s.SnapshotInto(&snap) })
	require.Zero(t, allocs)
	require.Len(t, snap.Replicas, 3)
}

func TestRecordingDoesNotAllocate(t *testing.T) {
	var s status.Source
	tests := []struct {
		name string
		f    func()
	}{
		{"Add", func() { s.Add(status.YesTx, 1) }},
		{"Add negative", func() { s.Add(status.WaitSessions, -1) }},
		{"Update", func() {
			us := int64(5)
			s.Update(func(b status.Batch) {
				b.Add(status.TxWaits, 1)
				b.Add(status.TxWaitTime, us)
			})
		}},
		{"SwitchOff", func() { s.SwitchOff(status.ReasonTimeout) }},
		{"RecordTxWait", func() { s.RecordTxWait(time.Millisecond) }},
		{"Histogram", func() { s.WaitLatency.Record(time.Millisecond) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Zero(t, testing.AllocsPerRun(100, tt.f))
		})
	}
}

func TestReplica(t *testing.T) {
	var r status.Replica
	require.Equal(t, status.ReplicaStatusSnapshot{}, r.Snapshot())

	r.StartIO(true)
	r.CountAckSent()
	r.CountAckSent()
	r.CountAckSendFailure()
	require.Equal(t, status.ReplicaStatusSnapshot{Status: true, SendAck: 2, AckSendFailures: 1}, r.Snapshot())

	r.StopIO()
	snap := r.Snapshot()
	require.False(t, snap.Status)
	require.Equal(t, uint64(2), snap.SendAck, "stopping keeps send_ack")

	r.StartIO(true)
	snap = r.Snapshot()
	require.True(t, snap.Status)
	require.Zero(t, snap.SendAck, "MariaDB resets send_ack when the IO thread starts")
	require.Equal(t, uint64(1), snap.AckSendFailures, "failures are kept for the Replica's life")

	r.SetStatus(false) // negotiation: the source has no semisync
	require.False(t, r.Snapshot().Status)
	r.StartIO(false)
	require.False(t, r.Snapshot().Status)
}
