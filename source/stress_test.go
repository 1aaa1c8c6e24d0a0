package source_test

// Concurrency tests: thousands of waiters against concurrent acknowledgements,
// cancellations and variable changes in real time (run them with -race);
// Close while thousands wait; goroutine leaks; a blocked Observer.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/ackset"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/status"
)

// stressGuard bounds the real-time tests. It only detects a deadlock; no
// test waits for it to pass.
const stressGuard = 60 * time.Second

// stressStep is the distance between consecutive commit positions.
const stressStep = 100

func stressPos(i int) semisync.Position {
	return semisync.FilePos("binlog.000001", uint64(4+i*stressStep))
}

// stressOutcomes counts the results of concurrent waits.
type stressOutcomes struct {
	n       [source.Cancelled + 1]atomic.Int64
	reasons [status.NumSwitchOffReasons]atomic.Int64
	bad     atomic.Value // first inconsistency seen by a waiter (string)
}

func (o *stressOutcomes) record(res source.Result, err error) {
	if int(res.Outcome) >= len(o.n) {
		o.bad.CompareAndSwap(nil, fmt.Sprintf("unknown outcome %v", res))
		return
	}
	o.n[res.Outcome].Add(1)
	if res.Outcome == source.SwitchedOff || res.Outcome == source.TimedOut {
		o.reasons[res.Reason].Add(1)
	}
	wantErr := res.Outcome == source.Cancelled
	if (err != nil) != wantErr || (wantErr && !errors.Is(err, context.Canceled)) {
		o.bad.CompareAndSwap(nil, fmt.Sprintf("outcome %v with error %v", res, err))
	}
}

func (o *stressOutcomes) get(x source.Outcome) int64 { return o.n[x].Load() }

func (o *stressOutcomes) total() int64 {
	var t int64
	for i := range o.n {
		t += o.n[i].Load()
	}
	return t
}

func (o *stressOutcomes) check(t *testing.T) {
	t.Helper()
	if bad := o.bad.Load(); bad != nil {
		t.Fatal(bad)
	}
}

// stressAwait waits for wg, failing the test if the guard expires first.
func stressAwait(t *testing.T, guard context.Context, wg *sync.WaitGroup, s *source.Source, what string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-guard.Done():
		t.Fatalf("%s: still blocked after %s; state %+v", what, stressGuard, s.State())
	}
}

// TestStressConcurrentWaiters: 4000 commits wait on increasing positions
// while three replicas acknowledge in coalesced jumps, a quarter of the
// waits are cancelled from another goroutine, and the wait count and
// timeout keep changing. Every wait returns, the outcomes add up, and the
// counters agree with them.
func TestStressConcurrentWaiters(t *testing.T) {
	const waits = 4000
	guard, stop := context.WithTimeout(context.Background(), stressGuard)
	defer stop()

	s, err := source.New(source.Options{})
	require.NoError(t, err)
	defer s.Close()
	require.NoError(t, s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON, "+
		"rpl_semi_sync_source_timeout = 60000, rpl_semi_sync_source_wait_for_replica_count = 2"))
	var sessions []*source.Session
	for id := range semisync.ReplicaID(3) {
		x, err := s.Register(id+1, semisync.Position{})
		require.NoError(t, err)
		defer x.Close()
		sessions = append(sessions, x)
	}
	require.True(t, s.State().On)

	var (
		written  atomic.Int64 // index of the newest write
		out      stressOutcomes
		overAck  atomic.Value // an acknowledged wait beyond the quorum
		waiters  sync.WaitGroup
		helpers  sync.WaitGroup
		stopHelp = make(chan struct{})
		cancels  = make(chan context.CancelFunc, waits)
	)

	// Replicas: acknowledge a random position between what they have and
	// the newest write.
	for r, x := range sessions {
		helpers.Add(1)
		go func() {
			defer helpers.Done()
			rng := rand.New(rand.NewPCG(uint64(r), 1))
			acked := 0
			for {
				select {
				case <-stopHelp:
					return
				default:
				}
				// Now and then, a jump over many commits.
				if w := int(written.Load()); w > acked && rng.IntN(64) == 0 {
					if rng.IntN(4) == 0 {
						acked = w // caught up: may switch the source back ON
					} else {
						acked += 1 + rng.IntN(w-acked)
					}
					x.Ack(stressPos(acked))
				}
				runtime.Gosched()
			}
		}()
	}
	// Sampler: the peak number of blocked waits.
	var peak atomic.Int64
	helpers.Add(1)
	go func() {
		defer helpers.Done()
		for {
			select {
			case <-stopHelp:
				return
			default:
			}
			if n := int64(s.State().Waiting); n > peak.Load() {
				peak.Store(n)
			}
			runtime.Gosched()
		}
	}()
	// Canceller: cancels half of the contexts it is given.
	helpers.Add(1)
	go func() {
		defer helpers.Done()
		rng := rand.New(rand.NewPCG(7, 7))
		for cancel := range cancels {
			if rng.IntN(2) == 0 {
				cancel()
			}
		}
	}()
	// Toggler: wait count 1..3 and a timeout that is sometimes tiny.
	helpers.Add(1)
	go func() {
		defer helpers.Done()
		rng := rand.New(rand.NewPCG(9, 9))
		for {
			select {
			case <-stopHelp:
				return
			default:
			}
			timeout := 60000
			if rng.IntN(64) == 0 {
				timeout = 1 + rng.IntN(20) // now and then, a commit times out
			}
			stmt := fmt.Sprintf("SET GLOBAL rpl_semi_sync_source_wait_for_replica_count = %d, rpl_semi_sync_source_timeout = %d",
				1+rng.IntN(3), timeout)
			if err := s.Vars().Exec(stmt); err != nil {
				overAck.CompareAndSwap(nil, err.Error())
				return
			}
			runtime.Gosched()
		}
	}()

	// The writer: Flushed, then the commit's wait on its own goroutine.
	for i := 1; i <= waits; i++ {
		p := stressPos(i)
		require.NoError(t, s.Flushed(p))
		written.Store(int64(i))
		ctx, cancel := context.WithCancel(context.Background())
		if i%4 == 0 {
			cancels <- cancel
		}
		waiters.Add(1)
		go func() {
			defer waiters.Done()
			defer cancel()
			res, err := s.Wait(ctx, p)
			out.record(res, err)
			if res.Outcome == source.Acknowledged {
				// The quorum never moves back (no RESET MASTER here).
				if q := s.State().Acknowledged; p.Compare(q) > 0 {
					overAck.CompareAndSwap(nil, fmt.Sprintf("%s acknowledged, quorum %s", p, q))
				}
			}
		}()
	}
	close(cancels)
	close(stopHelp)
	stressAwait(t, guard, &helpers, s, "helpers")
	// Finally every replica acknowledges everything: nothing may still wait.
	for _, x := range sessions {
		x.Ack(stressPos(waits))
	}
	stressAwait(t, guard, &waiters, s, "waits")

	out.check(t)
	require.Nil(t, overAck.Load())
	require.Equal(t, int64(waits), out.total())
	require.Zero(t, out.get(source.Disabled))
	require.Zero(t, out.get(source.NoPosition))
	st := s.State()
	require.Zero(t, st.Waiting)
	require.Equal(t, stressPos(waits), st.Acknowledged)
	snap := s.Snapshot()
	require.Equal(t, uint64(waits), snap.YesTx+snap.NoTx, "every wait counts once")
	require.LessOrEqual(t, snap.YesTx, uint64(out.get(source.Acknowledged)))
	require.Equal(t, uint64(out.get(source.TimedOut)), snap.WaitTimeouts)
	require.Zero(t, snap.WaitSessions)
	require.Equal(t, uint64(3), snap.Clients)
	t.Logf("peak %d waiting; acknowledged %d, timed out %d, switched off %d, async %d, cancelled %d; yes_tx %d no_tx %d no_times %d",
		peak.Load(), out.get(source.Acknowledged), out.get(source.TimedOut), out.get(source.SwitchedOff),
		out.get(source.Async), out.get(source.Cancelled), snap.YesTx, snap.NoTx, snap.NoTimes)
}

// TestStressCloseWhileWaiting: Close while 3000 commits wait and a replica
// is acknowledging some of them. Every wait returns Acknowledged or
// SwitchedOff (shutdown); Close returns, twice; afterwards every method
// reports ErrClosed (or its equivalent).
func TestStressCloseWhileWaiting(t *testing.T) {
	const waits = 3000
	guard, stop := context.WithTimeout(context.Background(), stressGuard)
	defer stop()

	s, err := source.New(source.Options{})
	require.NoError(t, err)
	require.NoError(t, s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON, rpl_semi_sync_source_timeout = 60000"))
	r1, err := s.Register(1, semisync.Position{})
	require.NoError(t, err)
	defer r1.Close()

	var out stressOutcomes
	var waiters sync.WaitGroup
	for i := 1; i <= waits; i++ {
		require.NoError(t, s.Flushed(stressPos(i)))
		waiters.Add(1)
		go func() {
			defer waiters.Done()
			out.record(s.Wait(context.Background(), stressPos(i)))
		}()
	}
	// Let every wait block (the timeout is a minute away).
	for s.State().Waiting < waits {
		if guard.Err() != nil {
			t.Fatalf("only %d of %d waits blocked", s.State().Waiting, waits)
		}
		runtime.Gosched()
	}

	acking := make(chan struct{})
	go func() {
		defer close(acking)
		for i := 1; i <= waits; i += 7 {
			if r1.Ack(stressPos(i)) == ackset.AckUnknownReplica {
				return // closed
			}
			runtime.Gosched()
		}
	}()
	require.NoError(t, s.Close())
	stressAwait(t, guard, &waiters, s, "waits after Close")
	<-acking
	require.NoError(t, s.Close(), "a second Close")

	out.check(t)
	require.Equal(t, int64(waits), out.total())
	require.Equal(t, int64(waits), out.get(source.Acknowledged)+out.get(source.SwitchedOff))
	require.Equal(t, out.get(source.SwitchedOff), out.reasons[status.ReasonShutdown].Load())
	snap := s.Snapshot()
	require.Equal(t, uint64(out.get(source.Acknowledged)), snap.YesTx)
	require.Equal(t, uint64(out.get(source.SwitchedOff)), snap.NoTx)
	require.Equal(t, uint64(1), snap.NoTimes)
	require.Equal(t, uint64(1), snap.SwitchOffs[status.ReasonShutdown])
	require.Zero(t, snap.WaitSessions)
	st := s.State()
	require.True(t, st.Closed)
	require.False(t, st.On)
	require.Zero(t, st.Waiting)

	// After Close.
	require.ErrorIs(t, s.Flushed(stressPos(waits+1)), source.ErrClosed)
	for _, p := range []semisync.Position{stressPos(1), stressPos(waits)} {
		_, err := s.Wait(context.Background(), p)
		require.ErrorIs(t, err, source.ErrClosed, "Wait(%s)", p)
	}
	_, err = s.Register(2, semisync.Position{})
	require.ErrorIs(t, err, source.ErrClosed)
	require.ErrorIs(t, s.SetPolicy(ackset.Count(1)), source.ErrClosed)
	require.Equal(t, ackset.AckUnknownReplica, r1.Ack(stressPos(waits)))
	require.False(t, r1.ReplyRequired(stressPos(waits)))
	require.False(t, r1.SolicitAck())
	require.NoError(t, s.Close(), "a third Close")
}

// TestStressNoGoroutineLeak: outside synctest, every goroutine the source
// started has ended when Close returns, with an Observer and a stall timer.
func TestStressNoGoroutineLeak(t *testing.T) {
	guard, stop := context.WithTimeout(context.Background(), stressGuard)
	defer stop()
	before := runtime.NumGoroutine()
	var seen atomic.Int64
	s, err := source.New(source.Options{
		Observer:   source.ObserverFunc(func(source.Event) { seen.Add(1) }),
		StallAfter: time.Hour,
	})
	require.NoError(t, err)
	require.NoError(t, s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON, rpl_semi_sync_source_timeout = 60000"))
	r1, err := s.Register(1, semisync.Position{})
	require.NoError(t, err)
	var wg sync.WaitGroup
	for i := 1; i <= 50; i++ {
		require.NoError(t, s.Flushed(stressPos(i)))
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = s.Wait(context.Background(), stressPos(i))
		}()
	}
	r1.Ack(stressPos(25))
	r1.Close() // wait_no_replica is ON: the rest keep waiting until Close
	require.NoError(t, s.Close())
	stressAwait(t, guard, &wg, s, "waits after Close")
	require.Positive(t, seen.Load(), "the observer saw the events")

	n := runtime.NumGoroutine()
	for i := 0; i < 100000 && n > before; i++ {
		runtime.Gosched()
		n = runtime.NumGoroutine()
	}
	require.LessOrEqual(t, n, before, "goroutines left after Close")
}

// TestStressNoLeakInBubble: the same inside synctest, where the bubble
// itself fails if a goroutine the source started outlives it; here with
// armed timers (a deadline and a stall report) at Close.
func TestStressNoLeakInBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := source.New(source.Options{
			Observer:   source.ObserverFunc(func(source.Event) {}),
			StallAfter: time.Minute,
		})
		require.NoError(t, err)
		require.NoError(t, s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON"))
		require.NoError(t, s.Flushed(stressPos(1)))
		done := make(chan source.Result, 1)
		go func() { r, _ := s.Wait(context.Background(), stressPos(1)); done <- r }()
		synctest.Wait()
		require.Equal(t, 1, s.State().Waiting)
		require.NoError(t, s.Close())
		require.Equal(t, source.SwitchedOff, (<-done).Outcome)
	})
}

// stressBlockingObserver blocks on its first event until released.
type stressBlockingObserver struct {
	release chan struct{}
	seen    atomic.Int64
}

func (o *stressBlockingObserver) Observe(source.Event) {
	o.seen.Add(1)
	<-o.release
}

// TestStressBlockedObserver: an Observer stuck in Observe delays neither
// Wait nor Ack (package doc: "A slow Observer never delays a commit or an
// acknowledgement"): 100 switch-off/switch-on cycles, each with a commit
// acknowledged, complete; the events that do not fit in EventBuffer are
// dropped and counted; once the observer is released, Close returns.
func TestStressBlockedObserver(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		obs := &stressBlockingObserver{release: make(chan struct{})}
		s, err := source.New(source.Options{Observer: obs, EventBuffer: 4})
		require.NoError(t, err)
		require.NoError(t, s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_wait_no_replica = OFF, "+
			"rpl_semi_sync_source_timeout = 3600000"))
		require.NoError(t, s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON"))
		require.False(t, s.State().On, "no replica, wait_no_replica OFF")
		r1, err := s.Register(1, semisync.Position{})
		require.NoError(t, err)
		require.True(t, s.State().On, "a caught-up replica switches the source ON")

		for i := 1; i <= 100; i++ {
			p := stressPos(i)
			require.NoError(t, s.Flushed(p))
			done := make(chan source.Result, 1)
			go func() { r, _ := s.Wait(context.Background(), p); done <- r }()
			synctest.Wait()
			require.Equal(t, 1, s.State().Waiting, "cycle %d", i)
			require.Equal(t, ackset.AckAccepted, r1.Ack(p))
			synctest.Wait()
			select {
			case r := <-done:
				require.Equal(t, source.Acknowledged, r.Outcome, "cycle %d", i)
			default:
				t.Fatalf("cycle %d: Wait did not return after the ACK", i)
			}
			r1.Close() // the only replica leaves: OFF (replica loss)
			require.False(t, s.State().On, "cycle %d", i)
			r1, err = s.Register(1, p) // caught up: ON again
			require.NoError(t, err)
			require.True(t, s.State().On, "cycle %d", i)
		}
		require.Equal(t, int64(1), obs.seen.Load(), "the observer is stuck in its first event")
		require.Positive(t, s.DroppedEvents())
		snap := s.Snapshot()
		require.Equal(t, uint64(100), snap.YesTx)
		require.Equal(t, uint64(100), snap.SwitchOffs[status.ReasonReplicaLoss])

		close(obs.release)
		synctest.Wait()
		require.Equal(t, int64(1+4), obs.seen.Load(), "the 4 buffered events follow")
		r1.Close() // replica-left, switched-off
		require.NoError(t, s.Close())
		require.Equal(t, int64(1+4+2), obs.seen.Load())
	})
}

// TestBlockedObserverDoesNotDelayTimeouts: a slow Observer never delays a
// commit. Timeouts fire on a goroutine that never calls the Observer, so
// while Observe blocks a commit with a 100 ms timeout still times out.
func TestBlockedObserverDoesNotDelayTimeouts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		obs := &stressBlockingObserver{release: make(chan struct{})}
		s, err := source.New(source.Options{Observer: obs})
		require.NoError(t, err)
		defer s.Close()
		defer close(obs.release) // before Close: let the goroutine finish
		// No replica, wait_no_replica ON (default): status ON.
		require.NoError(t, s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON, rpl_semi_sync_source_timeout = 100"))
		require.NoError(t, s.Flushed(stressPos(1)))
		done := make(chan source.Result, 1)
		go func() { r, _ := s.Wait(context.Background(), stressPos(1)); done <- r }()
		synctest.Wait()
		time.Sleep(time.Second) // ten times the timeout
		synctest.Wait()
		select {
		case r := <-done:
			require.Equal(t, source.TimedOut, r.Outcome)
		default:
			t.Fatalf("the commit still waits 1 s after its 100 ms timeout (observer blocked); state %+v", s.State())
		}
	})
}
