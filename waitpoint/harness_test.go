package waitpoint_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/vars"
	"github.com/semisync-go/semisync/waitpoint"
)

// The tests drive a Pipeline over an in-memory binlog and engine (engine)
// and a real source wrapped to record its calls (recSource). Every party
// writes to one journal, so a test can assert the order of flush, Flushed,
// sync, wait, ACK and engine commit. Most tests run in a synctest bubble:
// synctest.Wait returns once every goroutine is blocked, so a test knows
// where each commit stands before it acts.

const binlogFile = "binlog.000001"

// txSize is the binlog bytes each transaction takes: the first transaction
// ends at 100, the second at 200, and so on.
const txSize = 100

func pos(off uint64) semisync.Position { return semisync.FilePos(binlogFile, off) }

// journal records what happened, in order.
type journal struct {
	mu      sync.Mutex
	entries []string
}

func (j *journal) add(format string, a ...any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.entries = append(j.entries, fmt.Sprintf(format, a...))
}

func (j *journal) list() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.entries)
}

// count returns how many entries start with prefix.
func (j *journal) count(prefix string) int {
	n := 0
	for _, e := range j.list() {
		if strings.HasPrefix(e, prefix) {
			n++
		}
	}
	return n
}

// requireJournal checks the journal against want. An item "x|y|z" stands
// for three entries that may come in any order (concurrent waits).
func requireJournal(t *testing.T, j *journal, want ...string) {
	t.Helper()
	got := j.list()
	var flat []string
	for _, w := range want {
		flat = append(flat, strings.Split(w, "|")...)
	}
	require.Len(t, got, len(flat), "journal %q", got)
	i := 0
	for _, w := range want {
		set := strings.Split(w, "|")
		part := slices.Clone(got[i : i+len(set)])
		slices.Sort(part)
		slices.Sort(set)
		require.Equal(t, set, part, "journal %q, at %d", got, i)
		i += len(set)
	}
}

// ctxKey is the type of the context key the steps look for.
type ctxKey struct{}

// engine is an in-memory binlog and storage engine implementing
// waitpoint.Steps[string]. A transaction is its name.
type engine struct {
	j *journal
	// gate, if not nil, makes every Flush take a token from it before it
	// writes: the test decides when each group is written.
	gate chan struct{}
	// fail, if not nil, is asked at each step whether to fail (it may
	// also panic). txs is the group.
	fail func(stage waitpoint.Stage, txs []string) error
	// rewrite, if not nil, may change the end positions Flush returns.
	rewrite func(ends []semisync.Position)
	// synced, if not nil, receives each group's end after Sync.
	synced chan semisync.Position

	mu        sync.Mutex
	last      uint64
	binlog    []string // in binlog order
	committed []string // in engine commit order
	visible   map[string]bool
	pending   []string    // the group being flushed and synced
	ctx       stepContext // what the last step's context looked like
}

// stepContext is what a step saw of its context.
type stepContext struct {
	value       any // of ctxKey
	err         error
	hasDone     bool // Done is not nil
	hasDeadline bool
}

var _ waitpoint.Steps[string] = (*engine)(nil)

func newEngine(j *journal) *engine { return &engine{j: j, visible: map[string]bool{}} }

func (e *engine) step(ctx context.Context, stage waitpoint.Stage, txs []string) error {
	_, hasDeadline := ctx.Deadline()
	e.ctx = stepContext{value: ctx.Value(ctxKey{}), err: ctx.Err(), hasDone: ctx.Done() != nil, hasDeadline: hasDeadline}
	if e.fail == nil {
		return nil
	}
	if err := e.fail(stage, txs); err != nil {
		e.j.add("%s %s failed", stage, strings.Join(txs, ","))
		return err
	}
	return nil
}

func (e *engine) Flush(ctx context.Context, txs []string, ends []semisync.Position) error {
	if e.gate != nil {
		<-e.gate
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.step(ctx, waitpoint.StageFlush, txs); err != nil {
		return err
	}
	for i := range txs {
		e.last += txSize
		ends[i] = pos(e.last)
	}
	if e.rewrite != nil {
		e.rewrite(ends)
	}
	e.binlog = append(e.binlog, txs...)
	e.pending = slices.Clone(txs)
	e.j.add("flush %s", strings.Join(txs, ","))
	return nil
}

func (e *engine) Sync(ctx context.Context, end semisync.Position) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.step(ctx, waitpoint.StageSync, e.pending); err != nil {
		return err
	}
	e.j.add("sync %d", end.Offset())
	if e.synced != nil {
		e.synced <- end
	}
	return nil
}

func (e *engine) Commit(ctx context.Context, txs []string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.step(ctx, waitpoint.StageCommit, txs); err != nil {
		return err
	}
	for _, tx := range txs {
		e.visible[tx] = true
	}
	e.committed = append(e.committed, txs...)
	e.j.add("commit %s", strings.Join(txs, ","))
	return nil
}

// Visible is what a reader in another session sees: whether tx is
// committed in the engine.
func (e *engine) Visible(tx string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.visible[tx]
}

func (e *engine) state() (binlog, committed []string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.binlog), slices.Clone(e.committed)
}

// recSource is a real source that records Flushed and Wait calls.
type recSource struct {
	*source.Source
	j *journal
}

func (s recSource) Flushed(end semisync.Position) error {
	s.j.add("flushed %d", end.Offset())
	return s.Source.Flushed(end)
}

func (s recSource) Wait(ctx context.Context, p semisync.Position) (source.Result, error) {
	s.j.add("wait %d", p.Offset())
	return s.Source.Wait(ctx, p)
}

// fixture is a pipeline over an engine and an enabled source with one
// replica session, timeout one second.
type fixture struct {
	t    *testing.T
	j    *journal
	e    *engine
	src  *source.Source
	sess *source.Session
	p    *waitpoint.Pipeline[string]
}

// newFixture builds a fixture inside the caller's synctest bubble (or
// outside any). setup, if not nil, configures the engine before the
// pipeline exists.
func newFixture(t *testing.T, wp vars.WaitPoint, o waitpoint.Options, setup func(*engine)) *fixture {
	t.Helper()
	src, err := source.New(source.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.Close() })
	require.NoError(t, src.Vars().Exec(fmt.Sprintf(
		"SET GLOBAL rpl_semi_sync_source_enabled = ON, rpl_semi_sync_source_timeout = 1000, rpl_semi_sync_source_wait_point = %s", wp)))
	sess, err := src.Register(1, semisync.Position{})
	require.NoError(t, err)
	j := &journal{}
	e := newEngine(j)
	if setup != nil {
		setup(e)
	}
	p, err := waitpoint.New(recSource{src, j}, e, o)
	require.NoError(t, err)
	return &fixture{t: t, j: j, e: e, src: src, sess: sess, p: p}
}

// ack delivers the replica's acknowledgement of everything up to off, and
// waits until everything it released is blocked again.
func (f *fixture) ack(off uint64) {
	f.j.add("ack %d", off)
	f.sess.Ack(pos(off))
	synctest.Wait()
}

// setWaitPoint changes rpl_semi_sync_source_wait_point.
func (f *fixture) setWaitPoint(wp vars.WaitPoint) {
	require.NoError(f.t, f.src.Vars().Exec("SET GLOBAL rpl_semi_sync_source_wait_point = "+wp.String()))
}

// done is what one Commit call returned.
type done struct {
	res waitpoint.Result
	err error
}

// start calls Commit(ctx, tx) on a new goroutine and, inside a bubble,
// waits until it is blocked, so commits started one after another queue in
// that order. The channel receives the result.
func (f *fixture) start(ctx context.Context, tx string) <-chan done {
	ch := make(chan done, 1)
	go func() {
		res, err := f.p.Commit(ctx, tx)
		ch <- done{res, err}
	}()
	synctest.Wait()
	return ch
}

// startAll starts one commit per tx, in order, with ctx.
func (f *fixture) startAll(ctx context.Context, txs ...string) []<-chan done {
	chs := make([]<-chan done, len(txs))
	for i, tx := range txs {
		chs[i] = f.start(ctx, tx)
	}
	return chs
}

// release lets one more Flush write, and waits until everything is blocked
// again.
func (f *fixture) release() {
	f.e.gate <- struct{}{}
	synctest.Wait()
}

// pending reports whether the commit has not returned yet.
func pending(ch <-chan done) bool { return len(ch) == 0 }

// gated gives the engine a Flush gate.
func gated(e *engine) { e.gate = make(chan struct{}) }
