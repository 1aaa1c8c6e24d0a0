package source_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/source"
)

// The embedding in eleven calls: a source, enabled with SET GLOBAL, told
// where the binlog ends, one replica, one commit group written, flagged,
// acknowledged and waited for.
// Here the acknowledgement arrives before the wait, so Wait returns at once;
// in a server Wait blocks the committing session until it arrives.
func Example() {
	s, err := source.New(source.Options{}) // MySQL flavor, disabled
	if err != nil {
		fmt.Println(err)
		return
	}
	defer s.Close()
	if err := s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON"); err != nil {
		fmt.Println(err)
		return
	}
	_ = s.Appended(semisync.FilePos("binlog.000001", 4)) // a new binlog's end
	replica, _ := s.Register(2, semisync.FilePos("binlog.000001", 4))

	end := semisync.FilePos("binlog.000001", 1200) // the commit group's end
	_ = s.Flushed(end)                             // after_flush, binlog order
	fmt.Println("reply required:", replica.ReplyRequired(end))
	replica.Ack(end) // the replica's ACK packet
	res, _ := s.Wait(context.Background(), end)
	fmt.Println("commit:", res)

	var rows []semisync.Row // SHOW STATUS LIKE ..., a few at a time
	for _, like := range []string{"%status", "%clients", "%yes_tx", "%no_tx"} {
		rows = append(rows, s.Show(like)...)
	}
	_ = semisync.WriteTable(os.Stdout, rows)
	// Output:
	// reply required: true
	// commit: acknowledged
	// +------------------------------+-------+
	// | Variable_name                | Value |
	// +------------------------------+-------+
	// | Rpl_semi_sync_source_status  | ON    |
	// | Rpl_semi_sync_source_clients | 1     |
	// | Rpl_semi_sync_source_yes_tx  | 1     |
	// | Rpl_semi_sync_source_no_tx   | 0     |
	// +------------------------------+-------+
}

// A commit that no replica acknowledges in time: its wait times out and
// switches the source to asynchronous mode (spec §4.4), so the next commit
// does not wait at all. When the replica catches up with the newest write,
// the source switches back ON by itself (spec §4.5) and commits wait again.
func ExampleSource_Wait_timeout() {
	s, _ := source.New(source.Options{})
	defer s.Close()
	_ = s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON, rpl_semi_sync_source_timeout = 1")
	_ = s.Appended(semisync.FilePos("binlog.000001", 4))
	replica, _ := s.Register(2, semisync.FilePos("binlog.000001", 4))
	ctx := context.Background()

	// The replica is silent: after 1 ms the commit goes on without it.
	p1 := semisync.FilePos("binlog.000001", 500)
	_ = s.Flushed(p1)
	res, _ := s.Wait(ctx, p1)
	fmt.Println("first commit:", res, "| status ON:", s.State().On)

	p2 := semisync.FilePos("binlog.000001", 900)
	_ = s.Flushed(p2)
	res, _ = s.Wait(ctx, p2)
	fmt.Println("second commit:", res)

	// While OFF the source asks for an ACK of the newest write; the
	// replica's ACK for it switches semisync back on.
	fmt.Println("reply required:", replica.ReplyRequired(p2))
	replica.Ack(p2)
	fmt.Println("status ON:", s.State().On)

	p3 := semisync.FilePos("binlog.000001", 1300)
	_ = s.Flushed(p3)
	replica.Ack(p3)
	res, _ = s.Wait(ctx, p3)
	fmt.Println("third commit:", res)

	snap := s.Snapshot()
	fmt.Println("yes_tx:", snap.YesTx, "no_tx:", snap.NoTx, "no_times:", snap.NoTimes, "wait_timeouts:", snap.WaitTimeouts)
	// Output:
	// first commit: timed-out (timeout) | status ON: false
	// second commit: async
	// reply required: true
	// status ON: true
	// third commit: acknowledged
	// yes_tx: 1 no_tx: 2 no_times: 1 wait_timeouts: 1
}

// With FailClosed the source never falls back to asynchronous mode: a
// commit waits for a quorum however long it takes, or until its context
// ends. Here the first commit's context gives up while no replica is
// connected; the second commit waits until a replica that already has it
// connects (its start position counts as an acknowledgement).
func ExampleOptions_failClosed() {
	s, _ := source.New(source.Options{FailClosed: true})
	defer s.Close()
	// The timeout is ignored in fail-closed mode.
	_ = s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON, rpl_semi_sync_source_timeout = 1")

	p1 := semisync.FilePos("binlog.000001", 500)
	_ = s.Flushed(p1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	res, err := s.Wait(ctx, p1)
	cancel()
	fmt.Println("first commit:", res, "|", err, "| status ON:", s.State().On)

	p2 := semisync.FilePos("binlog.000001", 900)
	_ = s.Flushed(p2)
	done := make(chan source.Result)
	go func() {
		res, _ := s.Wait(context.Background(), p2)
		done <- res
	}()
	for s.State().Waiting != 1 { // until the commit is blocked
		runtime.Gosched()
	}
	_, _ = s.Register(2, p2)
	fmt.Println("second commit:", <-done)
	// Output:
	// first commit: cancelled | context deadline exceeded | status ON: true
	// second commit: acknowledged
}

// An Observer learns of every state change, in order, on the source's own
// goroutine; Close delivers the events still pending before it returns.
// Here the only replica leaves while wait_no_replica is OFF, which switches
// the source off (spec §4.4); it reconnects having everything, which
// switches it back on.
func ExampleObserver() {
	var events []source.Event // written by the source's goroutine, read after Close
	s, _ := source.New(source.Options{
		Observer: source.ObserverFunc(func(e source.Event) { events = append(events, e) }),
	})
	_ = s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON")
	_ = s.Appended(semisync.FilePos("binlog.000001", 4))
	replica, _ := s.Register(2, semisync.FilePos("binlog.000001", 4))
	_ = s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_wait_no_replica = OFF")

	end := semisync.FilePos("binlog.000001", 700)
	_ = s.Flushed(end)
	replica.Close() // the connection dropped

	_, _ = s.Register(2, end) // back, with everything up to end
	_ = s.Close()

	for _, e := range events {
		fmt.Println(e)
	}
	// Output:
	// enabled
	// switched-on trigger=enable
	// replica-joined id=2 start=binlog.000001:4
	// replica-left id=2
	// switched-off reason=replica_loss
	// replica-joined id=2 start=binlog.000001:700
	// switched-on trigger=catch-up
	// switched-off reason=shutdown
}

// When a source is demoted or shut down, Unacknowledged tells which
// transactions no quorum may hold: they are in the binlog (and, after a
// crash, would be committed by recovery) but must not be served as
// replicated. Closing the source releases the commit still waiting.
func ExampleSource_Unacknowledged() {
	s, _ := source.New(source.Options{})
	_ = s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON")
	_ = s.Appended(semisync.FilePos("binlog.000001", 4))
	replica, _ := s.Register(2, semisync.FilePos("binlog.000001", 4))

	var ends []semisync.Position
	for _, off := range []uint64{300, 600, 900} {
		end := semisync.FilePos("binlog.000001", off)
		_ = s.Flushed(end)
		ends = append(ends, end)
	}
	replica.Ack(ends[0]) // the replica holds only the first group

	done := make(chan source.Result)
	go func() {
		res, _ := s.Wait(context.Background(), ends[2])
		done <- res
	}()
	for s.State().Waiting != 1 {
		runtime.Gosched()
	}
	_ = s.Close() // demotion
	fmt.Println("waiting commit:", <-done)

	tail := s.Unacknowledged()
	fmt.Println("tail:", tail)
	for _, end := range ends {
		fmt.Println(end, "unacknowledged:", tail.Contains(end))
	}
	_, err := s.Wait(context.Background(), ends[2])
	fmt.Println(errors.Is(err, source.ErrClosed))
	// Output:
	// waiting commit: switched-off (shutdown)
	// tail: (binlog.000001:300, binlog.000001:900]
	// binlog.000001:300 unacknowledged: false
	// binlog.000001:600 unacknowledged: true
	// binlog.000001:900 unacknowledged: true
	// true
}

// Appended tells the source where the binlog ends when that end is not a
// commit group's: at startup, after a rotation, after RESET MASTER. A
// replica may not start after it: its start position would count as an
// acknowledgement of commits it was never sent (MySQL refuses it with
// error 1236).
func ExampleSource_Appended() {
	s, _ := source.New(source.Options{})
	defer s.Close()
	_, err := s.Register(2, semisync.FilePos("binlog.000001", 4))
	fmt.Println(err)

	// At startup: the binlog recovered from disk ends at binlog.000003:1500.
	_ = s.Appended(semisync.FilePos("binlog.000003", 1500))
	_, err = s.Register(2, semisync.FilePos("binlog.000003", 1500))
	fmt.Println("caught up:", err)
	_, err = s.Register(3, semisync.FilePos("binlog.000003", 9000))
	fmt.Println(errors.Is(err, source.ErrStartBeyondEnd), err)

	// A rotation: the new file starts at offset 4.
	_ = s.Appended(semisync.FilePos("binlog.000004", 4))
	_, err = s.Register(3, semisync.FilePos("binlog.000004", 4))
	fmt.Println("new file:", err)
	fmt.Println("starts_refused:", s.Snapshot().StartsRefused)
	// Output:
	// source: replica 2 asked to start at binlog.000001:4, but the source knows of no write; report the binlog's end with Appended
	// caught up: <nil>
	// true source: replica 3 asked to start at binlog.000003:9000, after the end of the binlog (binlog.000003:1500)
	// new file: <nil>
	// starts_refused: 2
}

// A replica that comes back below what it acknowledged lost those events
// (here its relay log was cut by a power failure). With a wait count of 2,
// the commits it had acknowledged together with the other replica may now
// be held by one replica only: Unacknowledged reports them at risk until
// the replicas connected now acknowledge them again.
func ExampleSource_Register_regression() {
	s, _ := source.New(source.Options{})
	defer s.Close()
	_ = s.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON, rpl_semi_sync_source_wait_for_replica_count = 2")
	start := semisync.FilePos("binlog.000001", 4)
	_ = s.Appended(start)
	r1, _ := s.Register(1, start)
	r2, _ := s.Register(2, start)
	end := semisync.FilePos("binlog.000001", 800)
	_ = s.Flushed(end)
	r1.Ack(end)
	r2.Ack(end)

	r2.Close() // the replica's host loses power
	r2, _ = s.Register(2, semisync.FilePos("binlog.000001", 300))
	tail := s.Unacknowledged()
	fmt.Println("tail:", tail)
	fmt.Println("800 weak:", tail.Weak(end), "| regressions:", s.Snapshot().ReplicaRegressions)

	r2.Ack(end) // it fetched them again
	fmt.Println("tail:", s.Unacknowledged())
	// Output:
	// tail: (binlog.000001:800, binlog.000001:800] at risk (binlog.000001:300, binlog.000001:800]
	// 800 weak: true | regressions: 1
	// tail: (binlog.000001:800, binlog.000001:800]
}
