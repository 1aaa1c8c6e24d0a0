package replica_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/status"
	"github.com/semisync-go/semisync/vars"
	"github.com/semisync-go/semisync/wire"
)

// ---------------------------------------------------------------------------
// Fakes shared by the tests of this package.

// op names a call a Stream makes to the host.
type op string

const (
	opWrite op = "Write"   // RelayLog.Write
	opFlush op = "Flush"   // RelayLog.Flush
	opSync  op = "Sync"    // Syncer.Sync
	opAck   op = "SendAck" // AckSender.SendAck
)

// call is one recorded call.
type call struct {
	op   op
	pos  semisync.Position // Write: the event's end; SendAck: the position
	data []byte            // Write: the event; SendAck: the payload (copies)
	err  error             // what the call returned
}

// String renders a call for readable comparisons: "Write(binlog.000001:100
// 0a0b)", "Flush", "SendAck(binlog.000001:300 ef...)", with " -> error"
// when the call failed.
func (c call) String() string {
	s := string(c.op)
	if c.op == opWrite || c.op == opAck {
		s = fmt.Sprintf("%s(%v %x)", c.op, c.pos, c.data)
	}
	if c.err != nil {
		s += " -> error"
	}
	return s
}

// recorder is the ordered log of every call a stream makes to its relay log
// and its ACK sender, with failures to inject into the next call of an op.
// It is used from the goroutine that drives the stream.
type recorder struct {
	calls []call
	fail  map[op]error
}

func newRecorder() *recorder { return &recorder{fail: map[op]error{}} }

// failNext makes the next call of o return err.
func (r *recorder) failNext(o op, err error) { r.fail[o] = err }

func (r *recorder) record(o op, pos semisync.Position, data []byte) error {
	err := r.fail[o]
	delete(r.fail, o)
	r.calls = append(r.calls, call{op: o, pos: pos, data: bytes.Clone(data), err: err})
	return err
}

// log returns the rendered calls from index from on.
func (r *recorder) log(from int) []string {
	out := []string{}
	for _, c := range r.calls[from:] {
		out = append(out, c.String())
	}
	return out
}

// fakeLog is a relay log that records its calls. It implements Syncer.
type fakeLog struct{ rec *recorder }

func (l fakeLog) Write(event []byte, end semisync.Position) error {
	return l.rec.record(opWrite, end, event)
}
func (l fakeLog) Flush() error { return l.rec.record(opFlush, semisync.Position{}, nil) }
func (l fakeLog) Sync() error  { return l.rec.record(opSync, semisync.Position{}, nil) }

// flushOnly hides the Sync method of the relay log it wraps.
type flushOnly struct{ replica.RelayLog }

// fakeAcks is an ACK sender that records its calls.
type fakeAcks struct{ rec *recorder }

func (a fakeAcks) SendAck(pos semisync.Position, payload []byte) error {
	return a.rec.record(opAck, pos, payload)
}

var (
	_ replica.RelayLog  = fakeLog{}
	_ replica.Syncer    = fakeLog{}
	_ replica.AckSender = fakeAcks{}
)

// fakeQuerier is the connection a stream negotiates on: it records the
// statements and answers them with answer.
type fakeQuerier struct {
	stmts  []string
	answer func(stmt string) ([][]string, error)
}

func (q *fakeQuerier) Query(_ context.Context, stmt string) ([][]string, error) {
	q.stmts = append(q.stmts, stmt)
	return q.answer(stmt)
}

// sourceWith answers like a source of flavor f that has semisync (enabled
// or not: only the variable's existence matters, spec §8.1).
func sourceWith(f semisync.Flavor) *fakeQuerier {
	return &fakeQuerier{answer: func(stmt string) ([][]string, error) {
		if ans, ok := wire.AnswerProbe(f, stmt, true); ok {
			if ans.Err != nil {
				return nil, ans.Err
			}
			return ans.Rows, nil
		}
		return nil, nil // the declaration
	}}
}

// sourceWithout answers like a source without semisync: every SELECT of a
// semisync variable is an unknown-variable error, SHOW finds nothing.
func sourceWithout() *fakeQuerier {
	return &fakeQuerier{answer: func(stmt string) ([][]string, error) {
		if strings.HasPrefix(stmt, "SELECT") {
			return nil, &wire.ServerError{Code: wire.ErUnknownSystemVariable, Message: "Unknown system variable"}
		}
		return nil, nil
	}}
}

// brokenSource answers every statement with err.
func brokenSource(err error) *fakeQuerier {
	return &fakeQuerier{answer: func(string) ([][]string, error) { return nil, err }}
}

// ---------------------------------------------------------------------------
// Helpers.

// enabledVar names rpl_semi_sync_replica_enabled per flavor.
var enabledVar = [...]string{
	semisync.FlavorMySQL:       "rpl_semi_sync_replica_enabled",
	semisync.FlavorMySQLLegacy: "rpl_semi_sync_slave_enabled",
	semisync.FlavorMariaDB:     "rpl_semi_sync_slave_enabled",
}

// setEnabled sets the replica side's enabled variable with SET GLOBAL.
func setEnabled(t require.TestingT, r *replica.Replica, on bool) {
	v := "OFF"
	if on {
		v = "ON"
	}
	require.NoError(t, r.Vars().Exec(fmt.Sprintf("SET GLOBAL %s = %s", enabledVar[r.Flavor()], v)))
}

// ackError is one call of Options.OnAckError.
type ackError struct {
	pos semisync.Position
	err error
}

// env is a replica with one stream on a recording relay log and sender.
type env struct {
	r       *replica.Replica
	s       *replica.Stream
	rec     *recorder
	ackErrs *[]ackError
}

// open makes a replica of flavor f with durability d, enabled or not,
// and opens a stream at start on a recording relay log, not negotiated yet.
func open(t *testing.T, f semisync.Flavor, d replica.Durability, enabled bool) env {
	t.Helper()
	var errs []ackError
	r, err := replica.New(replica.Options{Flavor: f, Durability: d,
		OnAckError: func(pos semisync.Position, err error) { errs = append(errs, ackError{pos, err}) }})
	require.NoError(t, err)
	setEnabled(t, r, enabled)
	rec := newRecorder()
	s, err := r.Open(start, fakeLog{rec}, fakeAcks{rec})
	require.NoError(t, err)
	t.Cleanup(s.Close)
	return env{r: r, s: s, rec: rec, ackErrs: &errs}
}

// setup is open followed by SetNegotiated(agreed): the outcome of a
// transport's handshake.
func setup(t *testing.T, f semisync.Flavor, d replica.Durability, enabled, agreed bool) env {
	t.Helper()
	e := open(t, f, d, enabled)
	e.s.SetNegotiated(agreed)
	return e
}

// start is where the streams of the tests begin.
var start = semisync.FilePos("binlog.000001", 4)

// pos returns a position in the first binlog file.
func pos(off uint64) semisync.Position { return semisync.FilePos("binlog.000001", off) }

// eventAt returns the bytes of a fake event ending at end.
func eventAt(end semisync.Position) []byte {
	return []byte{0x02, byte(end.Offset()), byte(end.Offset() >> 8)}
}

// packet builds the payload a source sends for ev: with the semisync
// header on a semisync connection, the status byte alone otherwise.
func packet(semisyncConn, flagged bool, ev []byte) []byte {
	if semisyncConn {
		return wire.AppendEvent(nil, flagged, ev)
	}
	return append([]byte{wire.StatusOK}, ev...)
}

// feed sends the event ending at end through s as a host does: the packet
// the source would send, Unwrap, then Queue.
func feed(t *testing.T, s *replica.Stream, end semisync.Position, flagged bool) error {
	t.Helper()
	ev, reply, err := s.Unwrap(packet(s.Semisync(), flagged, eventAt(end)))
	require.NoError(t, err)
	require.Equal(t, eventAt(end), ev)
	require.Equal(t, flagged && s.Semisync(), reply)
	return s.Queue(ev, end, reply)
}

// w and ack render the expected Write and SendAck calls.
func w(end semisync.Position) string { return call{op: opWrite, pos: end, data: eventAt(end)}.String() }

func ack(p semisync.Position) string {
	payload, _ := wire.AppendAck(nil, p) // the tests' names are short enough
	return call{op: opAck, pos: p, data: payload}.String()
}

// failed marks an expected call as failed.
func failed(c string) string { return c + " -> error" }

var errInjected = errors.New("injected failure")

// ---------------------------------------------------------------------------
// Tests.

func TestNewAndOpenRejectBadOptions(t *testing.T) {
	r, err := replica.New(replica.Options{Durability: replica.Synced})
	require.NoError(t, err)
	rec := newRecorder()
	tests := []struct {
		name string
		do   func() error
	}{
		{"durability", func() error { _, err := replica.New(replica.Options{Durability: 2}); return err }},
		{"flavor", func() error { _, err := replica.New(replica.Options{Flavor: 9}); return err }},
		{"nil relay log", func() error { _, err := r.Open(start, nil, fakeAcks{rec}); return err }},
		{"nil ack sender", func() error { _, err := r.Open(start, fakeLog{rec}, nil); return err }},
		{"synced without Sync", func() error { _, err := r.Open(start, flushOnly{fakeLog{rec}}, fakeAcks{rec}); return err }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.ErrorIs(t, tt.do(), replica.ErrInvalidOptions)
		})
	}
	require.Empty(t, rec.calls)
	require.False(t, r.Status().Status, "no stream opened")
}

func TestNewOptions(t *testing.T) {
	reg, err := vars.NewRegistry(semisync.FlavorMariaDB)
	require.NoError(t, err)
	st := new(status.Replica)
	r, err := replica.New(replica.Options{Vars: reg, Flavor: semisync.FlavorMySQL, Status: st, Durability: replica.Synced})
	require.NoError(t, err)
	require.Same(t, reg, r.Vars())
	require.Same(t, st, r.Counters())
	require.Equal(t, semisync.FlavorMariaDB, r.Flavor(), "the registry's flavor wins")
	require.Equal(t, replica.Synced, r.Durability())
	require.False(t, r.Vars().Config().ReplicaEnabled, "OFF by default, as in MySQL")

	// A relay log without Sync is fine when only flushing is required.
	r, err = replica.New(replica.Options{})
	require.NoError(t, err)
	require.Equal(t, semisync.FlavorMySQL, r.Flavor())
	s, err := r.Open(start, flushOnly{fakeLog{newRecorder()}}, fakeAcks{newRecorder()})
	require.NoError(t, err)
	s.Close()

	for d, want := range map[replica.Durability]string{replica.Flushed: "flushed", replica.Synced: "synced", 7: "Durability(7)"} {
		require.Equal(t, want, d.String())
	}
}

// A flagged event is acknowledged only after the relay log made it durable
// as configured, and events that became durable together get one ACK, for
// the highest flagged position (spec §9.2, B5).
func TestDurability(t *testing.T) {
	tests := []struct {
		d    replica.Durability
		want []string
	}{
		{replica.Flushed, []string{w(pos(100)), w(pos(200)), w(pos(300)), "Flush", ack(pos(300))}},
		{replica.Synced, []string{w(pos(100)), w(pos(200)), w(pos(300)), "Flush", "Sync", ack(pos(300))}},
	}
	for _, tt := range tests {
		t.Run(tt.d.String(), func(t *testing.T) {
			e := setup(t, semisync.FlavorMySQL, tt.d, true, true)
			require.NoError(t, feed(t, e.s, pos(100), false))
			require.NoError(t, feed(t, e.s, pos(200), true))
			require.NoError(t, feed(t, e.s, pos(300), true))
			require.Equal(t, tt.want[:3], e.rec.log(0), "nothing before Flush")
			require.Equal(t, start, e.s.Durable())

			require.NoError(t, e.s.Flush())
			require.Equal(t, tt.want, e.rec.log(0))
			payload, err := wire.AppendAck(nil, pos(300))
			require.NoError(t, err)
			last := e.rec.calls[len(e.rec.calls)-1]
			require.Equal(t, payload, last.data)
			require.Equal(t, pos(300), last.pos)

			require.Equal(t, pos(300), e.s.Durable())
			require.Equal(t, replica.StreamStats{Semisync: true, Events: 3, Written: pos(300), Durable: pos(300),
				Acked: pos(300), AcksSent: 1}, e.s.Stats())
			require.Equal(t, status.ReplicaStatusSnapshot{Status: true, SendAck: 1}, e.r.Status())
		})
	}
}

func TestFlushWithNothingOwed(t *testing.T) {
	tests := []struct {
		name    string
		flagged []bool // one event per entry, ending at 100, 200, ...
		want    []string
	}{
		{"nothing written", nil, []string{}},
		{"unflagged events", []bool{false, false}, []string{w(pos(100)), w(pos(200)), "Flush"}},
	}
	for _, d := range []replica.Durability{replica.Flushed, replica.Synced} {
		for _, tt := range tests {
			t.Run(d.String()+"/"+tt.name, func(t *testing.T) {
				e := setup(t, semisync.FlavorMySQL, d, true, true)
				for i, f := range tt.flagged {
					require.NoError(t, feed(t, e.s, pos(uint64(i+1)*100), f))
				}
				require.NoError(t, e.s.Flush())
				want := tt.want
				if d == replica.Synced && len(want) > 0 {
					want = append(slices.Clone(want), "Sync")
				}
				require.Equal(t, want, e.rec.log(0))
				n := len(e.rec.calls)
				require.NoError(t, e.s.Flush(), "a second Flush")
				require.Equal(t, []string{}, e.rec.log(n), "has nothing to do")
				require.Zero(t, e.r.Status().SendAck)
			})
		}
	}
}

// A relay-log error is returned, and nothing is acknowledged until a later
// Flush has made the event durable (spec §9.2: ACK = written and flushed).
func TestRelayLogErrors(t *testing.T) {
	tests := []struct {
		fail     op
		queueErr bool     // Queue returns the error (else Flush does)
		first    []string // calls up to the failure
		retry    []string // calls of the next Queue (when it failed) and Flush
	}{
		{opWrite, true,
			[]string{failed(w(pos(100)))},
			[]string{w(pos(100)), "Flush", "Sync", ack(pos(100))}},
		{opFlush, false,
			[]string{w(pos(100)), failed("Flush")},
			[]string{"Flush", "Sync", ack(pos(100))}},
		{opSync, false,
			[]string{w(pos(100)), "Flush", failed("Sync")},
			[]string{"Flush", "Sync", ack(pos(100))}},
	}
	for _, tt := range tests {
		t.Run(string(tt.fail), func(t *testing.T) {
			e := setup(t, semisync.FlavorMySQL, replica.Synced, true, true)
			e.rec.failNext(tt.fail, errInjected)
			err := feed(t, e.s, pos(100), true)
			if !tt.queueErr {
				require.NoError(t, err)
				err = e.s.Flush()
			}
			require.ErrorIs(t, err, errInjected)
			require.Equal(t, tt.first, e.rec.log(0))
			require.Equal(t, start, e.s.Durable(), "nothing became durable")

			n := len(e.rec.calls)
			if tt.queueErr {
				// The failed write left nothing owed: Flush does nothing.
				require.NoError(t, e.s.Flush())
				require.Equal(t, []string{}, e.rec.log(n))
				require.NoError(t, feed(t, e.s, pos(100), true), "the host writes the event again")
			}
			require.NoError(t, e.s.Flush())
			require.Equal(t, tt.retry, e.rec.log(n))
			require.Equal(t, pos(100), e.s.Durable())
			require.Equal(t, uint64(1), e.r.Status().SendAck)
			require.Empty(t, *e.ackErrs)
		})
	}
}

// A failed ACK is counted and reported and does not stop the stream, as in
// MySQL (spec §9.2).
func TestAckSendFailure(t *testing.T) {
	for _, withCallback := range []bool{true, false} {
		t.Run(fmt.Sprintf("OnAckError=%v", withCallback), func(t *testing.T) {
			rec := newRecorder()
			var errs []ackError
			o := replica.Options{Flavor: semisync.FlavorMariaDB}
			if withCallback {
				o.OnAckError = func(p semisync.Position, err error) { errs = append(errs, ackError{p, err}) }
			}
			r, err := replica.New(o)
			require.NoError(t, err)
			setEnabled(t, r, true)
			s, err := r.Open(start, fakeLog{rec}, fakeAcks{rec})
			require.NoError(t, err)
			defer s.Close()
			s.SetNegotiated(true)

			rec.failNext(opAck, errInjected)
			require.NoError(t, feed(t, s, pos(100), true))
			require.NoError(t, s.Flush(), "a lost ACK is not the stream's failure")
			require.Equal(t, []string{w(pos(100)), "Flush", failed(ack(pos(100)))}, rec.log(0))
			require.Equal(t, status.ReplicaStatusSnapshot{Status: true, SendAck: 0, AckSendFailures: 1}, r.Status())
			require.Equal(t, replica.StreamStats{Semisync: true, Events: 1, Written: pos(100), Durable: pos(100),
				Acked: start, AckFailures: 1}, s.Stats())
			if withCallback {
				require.Len(t, errs, 1)
				require.Equal(t, pos(100), errs[0].pos)
				require.ErrorIs(t, errs[0].err, errInjected)
			}
			require.Contains(t, r.Show("%send_ack"), semisync.Row{Name: "Rpl_semi_sync_slave_send_ack", Value: "0"})

			// The ACK is not retried; the next one goes out and counts.
			require.NoError(t, feed(t, s, pos(200), true))
			require.NoError(t, s.Flush())
			require.Equal(t, []string{w(pos(200)), "Flush", ack(pos(200))}, rec.log(3))
			require.Equal(t, status.ReplicaStatusSnapshot{Status: true, SendAck: 1, AckSendFailures: 1}, r.Status())
			require.Equal(t, replica.StreamStats{Semisync: true, Events: 2, Written: pos(200), Durable: pos(200),
				Acked: pos(200), AcksSent: 1, AckFailures: 1}, s.Stats())
			require.Contains(t, r.Show("%send_ack"), semisync.Row{Name: "Rpl_semi_sync_slave_send_ack", Value: "1"})
			if withCallback {
				require.Len(t, errs, 1)
			}
		})
	}
}

// An ACK position whose file name the ACK packet cannot carry fails like a
// send error, before anything is sent.
func TestAckNameTooLong(t *testing.T) {
	e := setup(t, semisync.FlavorMySQL, replica.Flushed, true, true)
	long := semisync.FilePos("binlog."+strings.Repeat("9", semisync.MaxFileNameLen), 100)
	ev, reply, err := e.s.Unwrap(wire.AppendEvent(nil, true, []byte{1}))
	require.NoError(t, err)
	require.NoError(t, e.s.Queue(ev, long, reply))
	require.NoError(t, e.s.Flush())
	require.Equal(t, []op{opWrite, opFlush}, []op{e.rec.calls[0].op, e.rec.calls[1].op})
	require.Len(t, e.rec.calls, 2, "no SendAck")
	require.Len(t, *e.ackErrs, 1)
	require.ErrorIs(t, (*e.ackErrs)[0].err, wire.ErrNameTooLong)
	require.Equal(t, uint64(1), e.r.Status().AckSendFailures)
}

// Whether event packets carry the header is decided by each connection's
// own negotiation, never by the replica's current setting (spec §9.3
// hazard): a runtime change applies to the next stream only.
func TestPerConnectionNegotiation(t *testing.T) {
	for _, f := range semisync.Flavors {
		t.Run(f.String(), func(t *testing.T) {
			ctx := context.Background()
			r, err := replica.New(replica.Options{Flavor: f})
			require.NoError(t, err)
			setEnabled(t, r, true)

			recA := newRecorder()
			a, err := r.Open(start, fakeLog{recA}, fakeAcks{recA})
			require.NoError(t, err)
			defer a.Close()
			require.True(t, a.Enabled())
			a.SetNegotiated(true)
			require.True(t, a.Semisync())
			_, _, err = a.Unwrap(packet(false, false, []byte{0x02, 0x03}))
			require.ErrorIs(t, err, wire.ErrMagic, "A expects headers")

			setEnabled(t, r, false)
			require.True(t, a.Semisync(), "A keeps what it negotiated")
			require.NoError(t, feed(t, a, pos(100), true))
			require.NoError(t, a.Flush())
			require.Equal(t, []string{w(pos(100)), "Flush", ack(pos(100))}, recA.log(0), "A still acknowledges")

			recB := newRecorder()
			b, err := r.Open(pos(100), fakeLog{recB}, fakeAcks{recB})
			require.NoError(t, err)
			defer b.Close()
			require.False(t, b.Enabled())
			qB := sourceWith(f)
			n, err := b.Negotiate(ctx, qB)
			require.NoError(t, err)
			require.False(t, n.Semisync)
			require.NotEmpty(t, n.Reason)
			require.Empty(t, qB.stmts, "a disabled stream sends no statement")
			require.False(t, b.Semisync())
			b.SetNegotiated(true) // a transport's handshake cannot enable it either
			require.False(t, b.Semisync())

			ev, reply, err := b.Unwrap([]byte{wire.StatusOK, 0x02, 0x03})
			require.NoError(t, err)
			require.Equal(t, []byte{0x02, 0x03}, ev)
			require.False(t, reply)
			ev, reply, err = b.Unwrap([]byte{wire.StatusOK, wire.Magic, wire.FlagReplyRequired, 0x02})
			require.NoError(t, err)
			require.Equal(t, []byte{wire.Magic, wire.FlagReplyRequired, 0x02}, ev, "no header: the event starts with 0xEF")
			require.False(t, reply)
			require.NoError(t, b.Queue(ev, pos(200), true), "a reply asked of an async stream is ignored")
			b.Heartbeat(true)
			require.NoError(t, b.Flush())
			require.Equal(t, []string{
				call{op: opWrite, pos: pos(200), data: ev}.String(), "Flush",
			}, recB.log(0), "B never acknowledges")

			setEnabled(t, r, true)
			recC := newRecorder()
			c, err := r.Open(pos(200), fakeLog{recC}, fakeAcks{recC})
			require.NoError(t, err)
			defer c.Close()
			qC := sourceWith(f)
			n, err = c.Negotiate(ctx, qC)
			require.NoError(t, err)
			require.True(t, n.Semisync)
			require.True(t, c.Semisync())
			require.Equal(t, wire.DeclareStatement(f), qC.stmts[len(qC.stmts)-1])
			require.NoError(t, feed(t, c, pos(300), true))
			require.NoError(t, c.Flush())
			require.Equal(t, []string{w(pos(300)), "Flush", ack(pos(300))}, recC.log(0))
			require.True(t, r.Status().Status)
		})
	}
}

// Negotiation against sources of every kind (spec §8.1): a source without
// semisync means asynchronous replication, not an error; a failed probe
// aborts the dump in MySQL, while MariaDB's replica carries on
// asynchronously; a cancelled context is an error for every flavor.
func TestNegotiate(t *testing.T) {
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	sources := []struct {
		name     string
		querier  func(semisync.Flavor) *fakeQuerier
		ctx      context.Context
		semisync bool
		wantErr  func(semisync.Flavor) error // nil: no error
	}{
		{"with semisync", sourceWith, context.Background(), true, nil},
		{"without semisync", func(semisync.Flavor) *fakeQuerier { return sourceWithout() }, context.Background(), false, nil},
		{"probe error", func(semisync.Flavor) *fakeQuerier { return brokenSource(errInjected) }, context.Background(), false,
			func(f semisync.Flavor) error {
				if f == semisync.FlavorMariaDB {
					return nil
				}
				return errInjected
			}},
		{"cancelled", sourceWith, cancelled, false, func(semisync.Flavor) error { return context.Canceled }},
	}
	for _, f := range semisync.Flavors {
		for _, src := range sources {
			t.Run(f.String()+"/"+src.name, func(t *testing.T) {
				e := open(t, f, replica.Flushed, true)
				s := e.s
				require.True(t, e.r.Status().Status, "ON from Open until negotiation says otherwise (spec §9.1)")

				q := src.querier(f)
				n, err := s.Negotiate(src.ctx, q)
				require.Equal(t, src.semisync, n.Semisync)
				require.Equal(t, src.semisync, s.Semisync())
				require.Equal(t, src.semisync, e.r.Status().Status, "status follows the outcome")
				if src.ctx.Err() != nil {
					require.Empty(t, q.stmts, "nothing is sent once the context has ended")
				} else {
					require.Equal(t, wire.Probes(f)[0].Stmt, q.stmts[0], "probes first")
				}
				var wantErr error
				if src.wantErr != nil {
					wantErr = src.wantErr(f)
				}
				switch {
				case wantErr != nil:
					require.ErrorIs(t, err, wantErr)
					var ne *wire.NegotiationError
					require.ErrorAs(t, err, &ne)
					require.LessOrEqual(t, len(q.stmts), 1, "the dump must not start")
					return
				case src.semisync:
					require.NoError(t, err)
					require.Equal(t, wire.DeclareStatement(f), q.stmts[len(q.stmts)-1])
				default:
					require.NoError(t, err)
					require.NotEmpty(t, n.Reason)
					require.NotContains(t, q.stmts, wire.DeclareStatement(f), "no declaration")
				}

				// A packet that looks flagged is acknowledged only on a
				// semisync connection.
				payload := []byte{wire.StatusOK, wire.Magic, wire.FlagReplyRequired, 0x02}
				ev, reply, err := s.Unwrap(payload)
				require.NoError(t, err)
				require.Equal(t, src.semisync, reply)
				require.NoError(t, s.Queue(ev, pos(100), reply))
				require.NoError(t, s.Flush())
				want := []string{call{op: opWrite, pos: pos(100), data: ev}.String(), "Flush"}
				if src.semisync {
					want = append(want, ack(pos(100)))
				}
				require.Equal(t, want, e.rec.log(0))
			})
		}
	}
}

// A source without semisync is asked every probe of the flavor, in order.
func TestNegotiateProbesInOrder(t *testing.T) {
	for _, f := range semisync.Flavors {
		t.Run(f.String(), func(t *testing.T) {
			e := open(t, f, replica.Flushed, true)
			q := sourceWithout()
			_, err := e.s.Negotiate(context.Background(), q)
			require.NoError(t, err)
			want := []string{}
			for _, p := range wire.Probes(f) {
				want = append(want, p.Stmt)
			}
			require.Equal(t, want, q.stmts)
		})
	}
}

func TestStatus(t *testing.T) {
	tests := []struct {
		f    semisync.Flavor
		want func(on bool, acks int) []semisync.Row
	}{
		{semisync.FlavorMySQL, func(on bool, _ int) []semisync.Row {
			return []semisync.Row{{Name: "Rpl_semi_sync_replica_status", Value: onOff(on)}}
		}},
		{semisync.FlavorMySQLLegacy, func(on bool, _ int) []semisync.Row {
			return []semisync.Row{{Name: "Rpl_semi_sync_slave_status", Value: onOff(on)}}
		}},
		{semisync.FlavorMariaDB, func(on bool, acks int) []semisync.Row {
			return []semisync.Row{{Name: "Rpl_semi_sync_slave_send_ack", Value: fmt.Sprint(acks)},
				{Name: "Rpl_semi_sync_slave_status", Value: onOff(on)}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.f.String(), func(t *testing.T) {
			r, err := replica.New(replica.Options{Flavor: tt.f})
			require.NoError(t, err)
			require.Equal(t, tt.want(false, 0), r.Show("Rpl_semi%"))
			rec := newRecorder()
			open := func() *replica.Stream {
				s, err := r.Open(start, fakeLog{rec}, fakeAcks{rec})
				require.NoError(t, err)
				return s
			}

			off := open()
			require.Equal(t, tt.want(false, 0), r.Show("Rpl_semi%"), "opened while disabled")
			off.Close()

			setEnabled(t, r, true)
			a := open()
			require.Equal(t, tt.want(true, 0), r.Show("Rpl_semi%"), "ON at Open (spec §9.1)")
			a.SetNegotiated(true)
			require.NoError(t, feed(t, a, pos(100), true))
			require.NoError(t, a.Flush())
			require.Equal(t, tt.want(true, 1), r.Show("Rpl_semi%"))

			b := open() // a reconnect before the old stream is closed
			require.Equal(t, tt.want(true, 1), r.Show("Rpl_semi%"), "send_ack restarts only when the first stream opens")
			a.Close()
			require.Equal(t, tt.want(true, 1), r.Show("Rpl_semi%"), "another stream is still open")
			a.Close()
			require.Equal(t, tt.want(true, 1), r.Show("Rpl_semi%"), "Close is idempotent")

			// A closed stream can do nothing, and cannot touch the status
			// that now belongs to b.
			n := len(rec.calls)
			require.ErrorIs(t, a.Queue([]byte{1}, pos(200), true), replica.ErrClosed)
			require.ErrorIs(t, a.Flush(), replica.ErrClosed)
			_, _, err = a.Unwrap(wire.AppendEvent(nil, true, []byte{1}))
			require.ErrorIs(t, err, replica.ErrClosed)
			q := sourceWithout()
			_, err = a.Negotiate(context.Background(), q)
			require.ErrorIs(t, err, replica.ErrClosed)
			require.Empty(t, q.stmts)
			a.SetNegotiated(false)
			a.Heartbeat(true)
			require.Equal(t, []string{}, rec.log(n))
			require.Equal(t, tt.want(true, 1), r.Show("Rpl_semi%"))
			require.Equal(t, pos(100), a.Stats().Acked)

			b.Close()
			require.Equal(t, tt.want(false, 1), r.Show("Rpl_semi%"), "OFF when the last stream closes (spec §9.1)")
			require.Equal(t, tt.want(false, 1), r.Show("rpl_semi_sync_%"), "LIKE ignores case")
			require.Empty(t, r.Show("Rpl_semi_sync_source%"), "no source side")
		})
	}
}

func onOff(on bool) string {
	if on {
		return "ON"
	}
	return "OFF"
}

func TestUnwrap(t *testing.T) {
	tests := []struct {
		name     string
		semisync bool
		payload  []byte
		event    []byte
		reply    bool
		err      error
	}{
		{"flagged", true, []byte{0x00, 0xef, 0x01, 0xaa, 0xbb}, []byte{0xaa, 0xbb}, true, nil},
		{"not flagged", true, []byte{0x00, 0xef, 0x00, 0xaa}, []byte{0xaa}, false, nil},
		{"only bit 0 counts", true, []byte{0x00, 0xef, 0xfe, 0xaa}, []byte{0xaa}, false, nil},
		{"empty event", true, []byte{0x00, 0xef, 0x01}, []byte{}, true, nil},
		{"missing magic", true, []byte{0x00, 0x00, 0x01, 0xaa}, nil, false, wire.ErrMagic},
		{"error packet", true, []byte{0xff, 0x15, 0x04}, nil, false, wire.ErrNotEvent},
		{"EOF packet", true, []byte{0xfe, 0x00, 0x00}, nil, false, wire.ErrNotEvent},
		{"empty", true, nil, nil, false, wire.ErrShort},
		{"status byte only", true, []byte{0x00}, nil, false, wire.ErrShort},
		{"async event", false, []byte{0x00, 0xaa}, []byte{0xaa}, false, nil},
		{"async header-like event", false, []byte{0x00, 0xef, 0x01}, []byte{0xef, 0x01}, false, nil},
		{"async error packet", false, []byte{0xff, 0x15, 0x04}, nil, false, wire.ErrNotEvent},
		{"async empty", false, []byte{}, nil, false, wire.ErrShort},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, semisync.FlavorMySQL, replica.Flushed, true, tt.semisync)
			require.Equal(t, tt.semisync, e.s.Semisync())
			ev, reply, err := e.s.Unwrap(tt.payload)
			if tt.err != nil {
				require.ErrorIs(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.event, ev)
			require.Equal(t, tt.reply, reply)
		})
	}
}

// A heartbeat that asks for a reply is answered at the next Flush with the
// position written so far; this is how a source solicits a lost ACK.
func TestHeartbeat(t *testing.T) {
	tests := []struct {
		name     string
		semisync bool
		steps    func(t *testing.T, s *replica.Stream)
		want     []string
	}{
		{"solicited, nothing written", true, func(t *testing.T, s *replica.Stream) {
			s.Heartbeat(true)
		}, []string{ack(start)}},
		{"solicited after a flush", true, func(t *testing.T, s *replica.Stream) {
			require.NoError(t, feed(t, s, pos(100), false))
			require.NoError(t, feed(t, s, pos(200), false))
			require.NoError(t, s.Flush())
			s.Heartbeat(true)
		}, []string{w(pos(100)), w(pos(200)), "Flush", ack(pos(200))}},
		{"solicited before the flush", true, func(t *testing.T, s *replica.Stream) {
			require.NoError(t, feed(t, s, pos(100), false))
			s.Heartbeat(true)
		}, []string{w(pos(100)), "Flush", ack(pos(100))}},
		{"re-acknowledges", true, func(t *testing.T, s *replica.Stream) {
			require.NoError(t, feed(t, s, pos(100), true))
			require.NoError(t, s.Flush())
			s.Heartbeat(true)
		}, []string{w(pos(100)), "Flush", ack(pos(100)), ack(pos(100))}},
		{"unsolicited", true, func(t *testing.T, s *replica.Stream) {
			s.Heartbeat(false)
		}, []string{}},
		{"async stream", false, func(t *testing.T, s *replica.Stream) {
			s.Heartbeat(true)
		}, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, semisync.FlavorMySQL, replica.Flushed, true, tt.semisync)
			tt.steps(t, e.s)
			require.NoError(t, e.s.Flush())
			require.Equal(t, tt.want, e.rec.log(0))
			n := len(e.rec.calls)
			require.NoError(t, e.s.Flush())
			require.Equal(t, []string{}, e.rec.log(n), "a heartbeat is answered once")
		})
	}
}

func TestQueueBackwards(t *testing.T) {
	tests := []struct {
		name        string
		first, next semisync.Position
	}{
		{"same file", pos(200), pos(100)},
		{"earlier file", semisync.FilePos("binlog.000002", 4), pos(900)},
		{"before the start", start, pos(3)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := setup(t, semisync.FlavorMySQL, replica.Flushed, true, true)
			if tt.first != start {
				require.NoError(t, feed(t, e.s, tt.first, false))
			}
			n := len(e.rec.calls)
			require.Error(t, e.s.Queue(eventAt(tt.next), tt.next, true))
			require.Equal(t, []string{}, e.rec.log(n), "nothing written")
			require.NoError(t, e.s.Flush())
			for _, c := range e.rec.calls {
				require.NotEqual(t, opAck, c.op, "the rejected event is not owed")
			}
		})
	}
}

// Positions compare by file index, not bytewise, so a stream crosses a
// binlog.999999 → binlog.1000000 rotation (spec §4.2, B20).
func TestRotation(t *testing.T) {
	e := setup(t, semisync.FlavorMySQL, replica.Flushed, true, true)
	p1, p2 := semisync.FilePos("binlog.999999", 500), semisync.FilePos("binlog.1000000", 120)
	require.NoError(t, feed(t, e.s, p1, true))
	require.NoError(t, feed(t, e.s, p2, true))
	require.NoError(t, e.s.Flush())
	require.Equal(t, []string{w(p1), w(p2), "Flush", ack(p2)}, e.rec.log(0))
}

// Stats and Status may be read from other goroutines while the stream
// runs (run with -race).
func TestStatsConcurrently(t *testing.T) {
	e := open(t, semisync.FlavorMySQL, replica.Flushed, true)
	require.Equal(t, replica.StreamStats{Written: start, Durable: start, Acked: start}, e.s.Stats(),
		"Stats shows the start position from Open on")
	e.s.SetNegotiated(true)
	require.True(t, e.s.Stats().Semisync, "and the negotiation's outcome at once")
	const n = 200
	done := make(chan error)
	go func() {
		var last replica.StreamStats
		for last.AcksSent < n {
			st := e.s.Stats()
			_ = e.r.Status()
			_ = e.r.Show("%")
			if st.Written.Less(last.Written) || st.AcksSent < last.AcksSent || st.Acked.Less(st.Written) {
				done <- fmt.Errorf("stats went backwards or are torn: %+v after %+v", st, last)
				return
			}
			last = st
		}
		done <- nil
	}()
	for i := range uint64(n) {
		require.NoError(t, feed(t, e.s, pos(100+i), true))
		require.NoError(t, e.s.Flush())
	}
	require.NoError(t, <-done)
}

// The status belongs to all open streams: a disabled or refused stream
// opened beside a semisync one does not turn it OFF.
func TestStatusWithOverlappingStreams(t *testing.T) {
	r, err := replica.New(replica.Options{Flavor: semisync.FlavorMySQL})
	require.NoError(t, err)
	rec := newRecorder()
	statusOf := func() string { return r.Show("Rpl_semi_sync_replica_status")[0].Value }

	setEnabled(t, r, true)
	a, err := r.Open(start, fakeLog{rec}, fakeAcks{rec})
	require.NoError(t, err)
	a.SetNegotiated(true)
	setEnabled(t, r, false)
	b, err := r.Open(start, fakeLog{rec}, fakeAcks{rec})
	require.NoError(t, err)
	require.Equal(t, "ON", statusOf(), "a disabled stream beside a semisync one")
	setEnabled(t, r, true)
	c, err := r.Open(start, fakeLog{rec}, fakeAcks{rec})
	require.NoError(t, err)
	c.SetNegotiated(false)
	require.Equal(t, "ON", statusOf(), "a refused stream beside a semisync one")
	a.Close()
	require.Equal(t, "OFF", statusOf(), "no open stream is semisync")
	c.SetNegotiated(true)
	require.Equal(t, "ON", statusOf(), "renegotiated")
	b.Close()
	c.Close()
	require.Equal(t, "OFF", statusOf())
}

// discardLog is a relay log that can drop unflushed writes.
type discardLog struct {
	written, flushed []semisync.Position
}

func (l *discardLog) Write(_ []byte, end semisync.Position) error {
	l.written = append(l.written, end)
	return nil
}

func (l *discardLog) Flush() error {
	l.flushed = append(l.flushed, l.written...)
	l.written = nil
	return nil
}

func (l *discardLog) Discard() { l.written = nil }

// Close drops what was written but never flushed, so a reconnect from
// Durable does not hold those events twice.
func TestCloseDiscardsUnflushed(t *testing.T) {
	r, err := replica.New(replica.Options{Flavor: semisync.FlavorMySQL})
	require.NoError(t, err)
	log := &discardLog{}
	s, err := r.Open(start, log, fakeAcks{newRecorder()})
	require.NoError(t, err)
	require.NoError(t, s.Queue([]byte{1}, pos(100), false))
	require.NoError(t, s.Flush())
	require.NoError(t, s.Queue([]byte{2}, pos(200), false))
	s.Close()
	require.Empty(t, log.written, "the unflushed write is discarded")
	require.Equal(t, []semisync.Position{pos(100)}, log.flushed)
	require.Equal(t, pos(100), s.Durable())
	require.Equal(t, pos(100), s.Stats().Written)
}
