package waitpoint_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/status"
	"github.com/semisync-go/semisync/vars"
	"github.com/semisync-go/semisync/waitpoint"
)

var waitPoints = []vars.WaitPoint{vars.AfterSync, vars.AfterCommit}

// A single commit runs the steps in the order of its wait point (spec
// §5.1), and returns only once the replica has acknowledged it.
func TestOrderSingle(t *testing.T) {
	for _, tc := range []struct {
		wp   vars.WaitPoint
		want []string
	}{
		{vars.AfterSync, []string{"flush a", "flushed 100", "sync 100", "wait 100", "ack 100", "commit a"}},
		{vars.AfterCommit, []string{"flush a", "flushed 100", "sync 100", "commit a", "wait 100", "ack 100"}},
	} {
		t.Run(tc.wp.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFixture(t, tc.wp, waitpoint.Options{}, nil)
				ch := f.start(t.Context(), "a")
				require.True(t, pending(ch), "returned before the ACK")
				f.ack(100)
				d := <-ch
				require.NoError(t, d.err)
				require.Equal(t, waitpoint.Result{
					Position: pos(100), WaitPoint: tc.wp, Group: 1,
					Wait: d.res.Wait,
				}, d.res)
				require.Equal(t, source.Acknowledged, d.res.Wait.Outcome)
				requireJournal(t, f.j, tc.want...)
			})
		})
	}
}

// Concurrent commits form groups: one Flush, one Flushed, one Sync and one
// engine Commit per group, and one ACK of the group's end releases every
// member. Under AFTER_SYNC the group waits once (yes_tx counts once per
// group, as in MySQL), and the next group is flushed and synced while the
// first one waits, but committed only after it. Under AFTER_COMMIT each
// member waits for its own position.
func TestGroupCommit(t *testing.T) {
	for _, tc := range []struct {
		wp    vars.WaitPoint
		want  []string
		yesTx uint64
	}{
		{vars.AfterSync, []string{
			"flush a", "flushed 100", "sync 100", "wait 100",
			"flush b,c,d,e", "flushed 500", "sync 500",
			"ack 500", "commit a", "wait 500", "commit b,c,d,e",
		}, 2},
		{vars.AfterCommit, []string{
			"flush a", "flushed 100", "sync 100", "commit a", "wait 100",
			"flush b,c,d,e", "flushed 500", "sync 500", "commit b,c,d,e",
			"wait 200|wait 300|wait 400|wait 500",
			"ack 500",
		}, 5},
	} {
		t.Run(tc.wp.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFixture(t, tc.wp, waitpoint.Options{}, gated)
				// a leads a group of one and blocks in Flush; b, c, d, e
				// queue meanwhile and form the next group.
				chs := f.startAll(t.Context(), "a", "b", "c", "d", "e")
				f.release()
				f.release()
				for _, ch := range chs {
					require.True(t, pending(ch))
				}
				require.Equal(t, tc.wp == vars.AfterCommit, f.e.Visible("e"))
				f.ack(500)
				for i, ch := range chs {
					d := <-ch
					require.NoError(t, d.err)
					require.Equal(t, source.Acknowledged, d.res.Wait.Outcome)
					require.Equal(t, pos(uint64(i+1)*txSize), d.res.Position)
					require.Equal(t, tc.wp, d.res.WaitPoint)
					require.Equal(t, []int{1, 4, 4, 4, 4}[i], d.res.Group)
				}
				requireJournal(t, f.j, tc.want...)
				require.Equal(t, tc.yesTx, f.src.Snapshot().YesTx)
			})
		})
	}
}

// A reader in another session (spec §5.1, B3): under AFTER_SYNC it cannot
// see the transaction before a replica has acknowledged it; under
// AFTER_COMMIT it can (and would lose it after a failover to a replica that
// does not have it: the phantom read).
func TestVisibilityBeforeAck(t *testing.T) {
	for _, tc := range []struct {
		wp      vars.WaitPoint
		visible bool
	}{
		{vars.AfterSync, false},
		{vars.AfterCommit, true},
	} {
		t.Run(tc.wp.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFixture(t, tc.wp, waitpoint.Options{}, nil)
				ch := f.start(t.Context(), "a")
				require.True(t, pending(ch))
				require.Equal(t, tc.visible, f.e.Visible("a"), "visible before the ACK")
				f.ack(100)
				d := <-ch
				require.NoError(t, d.err)
				require.Equal(t, source.Acknowledged, d.res.Wait.Outcome)
				require.True(t, f.e.Visible("a"), "visible after the ACK")
			})
		})
	}
}

// A wait point change applies to every commit that calls Commit after it:
// here c, which joins b's group. a's group was formed (it is in Flush)
// before the change and keeps the old wait point; b, queued at the time,
// gets the new one because its group is formed after the change.
func TestWaitPointChange(t *testing.T) {
	for _, old := range waitPoints {
		next := vars.AfterSync + vars.AfterCommit - old
		t.Run(old.String()+"->"+next.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFixture(t, old, waitpoint.Options{}, gated)
				a := f.start(t.Context(), "a")
				b := f.start(t.Context(), "b")
				f.setWaitPoint(next)
				c := f.start(t.Context(), "c")
				f.release()
				f.release()
				require.True(t, pending(a))
				require.Equal(t, old == vars.AfterCommit, f.e.Visible("a"))

				f.ack(100)
				d := <-a
				require.NoError(t, d.err)
				require.Equal(t, old, d.res.WaitPoint)
				require.True(t, pending(b))
				require.Equal(t, next == vars.AfterCommit, f.e.Visible("b"))

				f.ack(300)
				for _, ch := range []<-chan done{b, c} {
					d = <-ch
					require.NoError(t, d.err)
					require.Equal(t, next, d.res.WaitPoint)
					require.Equal(t, 2, d.res.Group)
					require.Equal(t, source.Acknowledged, d.res.Wait.Outcome)
				}
				require.True(t, f.e.Visible("c"))
			})
		})
	}
}

// When no ACK comes, the first wait to reach its deadline times out and
// switches the source off; the transactions are committed all the same.
// Under AFTER_SYNC the group {b, c} waits once, after a's timeout switched
// the source off (Async for both); under AFTER_COMMIT every member's own
// wait started at the same instant and times out (spec §5.2).
func TestTimeout(t *testing.T) {
	for _, tc := range []struct {
		wp   vars.WaitPoint
		want []source.Outcome // for a, b, c
		noTx uint64
	}{
		{vars.AfterSync, []source.Outcome{source.TimedOut, source.Async, source.Async}, 2},
		{vars.AfterCommit, []source.Outcome{source.TimedOut, source.TimedOut, source.TimedOut}, 3},
	} {
		t.Run(tc.wp.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFixture(t, tc.wp, waitpoint.Options{}, gated)
				chs := f.startAll(t.Context(), "a", "b", "c")
				f.release()
				f.release()
				time.Sleep(999 * time.Millisecond)
				synctest.Wait()
				for _, ch := range chs {
					require.True(t, pending(ch), "returned before the timeout")
				}
				time.Sleep(time.Millisecond)
				for i, ch := range chs {
					d := <-ch
					require.NoError(t, d.err)
					require.Equal(t, tc.want[i], d.res.Wait.Outcome, "commit %d", i)
					if d.res.Wait.Outcome == source.TimedOut {
						require.Equal(t, status.ReasonTimeout, d.res.Wait.Reason)
					}
				}
				for _, tx := range []string{"a", "b", "c"} {
					require.True(t, f.e.Visible(tx), "%s committed", tx)
				}
				require.False(t, f.src.State().On)
				require.Equal(t, tc.noTx, f.src.Snapshot().NoTx)
			})
		})
	}
}

var errInjected = errors.New("injected")

// How a failing step fails.
type failure int

const (
	returnError failure = iota
	panicBoom           // panic("boom")
	goexit              // runtime.Goexit
)

// failFor fails the group that contains tx at stage, as how says.
func failFor(tx string, stage waitpoint.Stage, how failure) func(waitpoint.Stage, []string) error {
	return func(s waitpoint.Stage, txs []string) error {
		if s != stage || !slices.Contains(txs, tx) {
			return nil
		}
		switch how {
		case panicBoom:
			panic("boom")
		case goexit:
			runtime.Goexit()
		}
		return errInjected
	}
}

// A failing stage stops the whole group: every member gets the same
// *StepError naming the stage and wrapping the cause, nothing after the
// stage happens, both stages are released, and the next commit succeeds.
// The replica has acknowledged everything in advance, so no wait blocks.
func TestStepErrors(t *testing.T) {
	outOfOrder := func(ends []semisync.Position) {
		for i := range ends {
			ends[i] = pos(uint64(i+1) * 10)
		}
	}
	repeated := func(ends []semisync.Position) { ends[1] = ends[0] }
	for _, tc := range []struct {
		name    string
		wp      vars.WaitPoint
		fail    waitpoint.Stage // stage the engine fails, if any
		rewrite func([]semisync.Position)
		stage   waitpoint.Stage
		cause   error
		journal []string // of the group b, c, d
		next    uint64   // where e ends
	}{
		{"flush", vars.AfterSync, waitpoint.StageFlush, nil, waitpoint.StageFlush, errInjected,
			[]string{"flush b,c,d failed"}, 200},
		{"bad-ends", vars.AfterSync, 0, repeated, waitpoint.StageFlushed, waitpoint.ErrBadEnds,
			[]string{"flush b,c,d"}, 500},
		{"out-of-order", vars.AfterSync, 0, outOfOrder, waitpoint.StageFlushed, source.ErrOutOfOrder,
			[]string{"flush b,c,d", "flushed 30"}, 500},
		{"sync", vars.AfterSync, waitpoint.StageSync, nil, waitpoint.StageSync, errInjected,
			[]string{"flush b,c,d", "flushed 400", "sync b,c,d failed"}, 500},
		{"commit/AFTER_SYNC", vars.AfterSync, waitpoint.StageCommit, nil, waitpoint.StageCommit, errInjected,
			[]string{"flush b,c,d", "flushed 400", "sync 400", "wait 400", "commit b,c,d failed"}, 500},
		{"commit/AFTER_COMMIT", vars.AfterCommit, waitpoint.StageCommit, nil, waitpoint.StageCommit, errInjected,
			[]string{"flush b,c,d", "flushed 400", "sync 400", "commit b,c,d failed"}, 500},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFixture(t, tc.wp, waitpoint.Options{}, func(e *engine) {
					gated(e)
					if tc.fail != 0 {
						e.fail = failFor("b", tc.fail, returnError)
					}
					if tc.rewrite != nil {
						e.rewrite = func(ends []semisync.Position) {
							if len(ends) == 3 {
								tc.rewrite(ends)
							}
						}
					}
				})
				f.ack(10_000)
				chs := f.startAll(t.Context(), "a", "b", "c", "d")
				f.release()
				f.release()
				d := <-chs[0]
				require.NoError(t, d.err)
				ends := []semisync.Position{pos(200), pos(300), pos(400)}
				if tc.rewrite != nil {
					tc.rewrite(ends)
				}
				for i, ch := range chs[1:] {
					d := <-ch
					var se *waitpoint.StepError
					require.ErrorAs(t, d.err, &se)
					require.Equal(t, tc.stage, se.Stage)
					require.ErrorIs(t, d.err, tc.cause)
					require.Equal(t, 3, d.res.Group)
					if tc.stage == waitpoint.StageCommit && tc.wp == vars.AfterSync {
						require.Equal(t, source.Acknowledged, d.res.Wait.Outcome, "waited before the engine commit")
					} else {
						require.Zero(t, d.res.Wait, "no wait")
					}
					if tc.stage == waitpoint.StageFlush {
						require.True(t, d.res.Position.IsZero())
					} else {
						require.Equal(t, ends[i], d.res.Position)
					}
				}
				e := f.start(t.Context(), "e")
				f.release()
				d = <-e
				require.NoError(t, d.err)
				require.Equal(t, source.Acknowledged, d.res.Wait.Outcome)

				first := []string{"ack 10000", "flush a", "flushed 100", "sync 100", "wait 100", "commit a"}
				last := []string{"flush e", fmt.Sprintf("flushed %d", tc.next), fmt.Sprintf("sync %d", tc.next), fmt.Sprintf("wait %d", tc.next), "commit e"}
				if tc.wp == vars.AfterCommit {
					first[4], first[5] = first[5], first[4]
					last[3], last[4] = last[4], last[3]
				}
				requireJournal(t, f.j, slices.Concat(first, tc.journal, last)...)
				_, committed := f.e.state()
				require.Equal(t, []string{"a", "e"}, committed)
			})
		})
	}
}

// A step that panics (or exits the goroutine) does not strand the group:
// the other members get an error wrapping ErrPanicked, the stages are
// released, and the panic goes on in the leader's goroutine.
func TestStepPanic(t *testing.T) {
	for _, how := range []failure{panicBoom, goexit} {
		for _, stage := range []waitpoint.Stage{waitpoint.StageFlush, waitpoint.StageSync, waitpoint.StageCommit} {
			t.Run(fmt.Sprintf("%d/%s", how, stage), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					f := newFixture(t, vars.AfterSync, waitpoint.Options{}, func(e *engine) {
						gated(e)
						e.fail = failFor("b", stage, how)
					})
					f.ack(10_000)
					a := f.start(t.Context(), "a")
					recovered := make(chan any, 1)
					go func() {
						defer func() { recovered <- recover() }()
						_, _ = f.p.Commit(t.Context(), "b")
					}()
					synctest.Wait()
					c := f.start(t.Context(), "c")
					f.release()
					f.release()
					require.NoError(t, (<-a).err)
					want := map[failure]any{panicBoom: "boom", goexit: nil}[how]
					require.Equal(t, want, <-recovered)
					d := <-c
					var se *waitpoint.StepError
					require.ErrorAs(t, d.err, &se)
					require.Equal(t, stage, se.Stage)
					require.ErrorIs(t, d.err, waitpoint.ErrPanicked)

					e := f.start(t.Context(), "e")
					f.release()
					require.NoError(t, (<-e).err)
					require.True(t, f.e.Visible("e"))
				})
			})
		}
	}
}

// A commit whose context ends while it is queued leaves the queue with a
// StageQueue error and nothing written; if it was to lead the next group,
// the next commit in the queue leads instead.
func TestCancelQueued(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cancel string // which of b, c, d
		group  string // the group that is then written
	}{
		{"leader", "b", "flush c,d"},
		{"follower", "c", "flush b,d"},
		{"last", "d", "flush b,c"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFixture(t, vars.AfterCommit, waitpoint.Options{}, gated)
				f.ack(10_000)
				a := f.start(t.Context(), "a")
				chs := map[string]<-chan done{}
				var cancel context.CancelFunc
				for _, tx := range []string{"b", "c", "d"} {
					ctx := t.Context()
					if tx == tc.cancel {
						ctx, cancel = context.WithCancel(ctx)
					}
					chs[tx] = f.start(ctx, tx)
				}
				cancel()
				d := <-chs[tc.cancel]
				var se *waitpoint.StepError
				require.ErrorAs(t, d.err, &se)
				require.Equal(t, waitpoint.StageQueue, se.Stage)
				require.ErrorIs(t, d.err, context.Canceled)
				require.Equal(t, waitpoint.Result{}, d.res)

				f.release()
				f.release()
				require.NoError(t, (<-a).err)
				for tx, ch := range chs {
					if tx != tc.cancel {
						d := <-ch
						require.NoError(t, d.err)
						require.Equal(t, 2, d.res.Group)
					}
				}
				require.Equal(t, 1, f.j.count(tc.group))
				binlog, _ := f.e.state()
				require.NotContains(t, binlog, tc.cancel)
			})
		})
	}
}

// A context that is already done never joins the queue.
func TestCancelledBeforeCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, vars.AfterSync, waitpoint.Options{}, nil)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err := f.p.Commit(ctx, "a")
		var se *waitpoint.StepError
		require.ErrorAs(t, err, &se)
		require.Equal(t, waitpoint.StageQueue, se.Stage)
		require.Empty(t, f.j.list())
	})
}

// Once its group is formed a follower cannot leave: under AFTER_SYNC its
// context ending changes nothing, and it gets the group's result.
func TestCancelFollowerInGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, vars.AfterSync, waitpoint.Options{}, gated)
		a := f.start(t.Context(), "a")
		b := f.start(t.Context(), "b")
		ctx, cancel := context.WithCancel(t.Context())
		c := f.start(ctx, "c")
		f.release() // a waits for 100; b's group {b, c} is formed, in Flush
		cancel()
		synctest.Wait()
		require.True(t, pending(c))
		f.release()
		require.True(t, pending(c))
		f.ack(300)
		for i, ch := range []<-chan done{a, b, c} {
			d := <-ch
			require.NoError(t, d.err)
			require.Equal(t, source.Acknowledged, d.res.Wait.Outcome)
			require.Equal(t, pos(uint64(i+1)*txSize), d.res.Position)
		}
		require.True(t, f.e.Visible("c"))
	})
}

// Under AFTER_COMMIT a member waits for its own position with its own
// context: cancelling it ends its wait only (Cancelled, context.Canceled),
// and its transaction stays committed.
func TestCancelFollowerWaitAfterCommit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, vars.AfterCommit, waitpoint.Options{}, gated)
		a := f.start(t.Context(), "a")
		b := f.start(t.Context(), "b")
		ctx, cancel := context.WithCancel(t.Context())
		c := f.start(ctx, "c")
		f.release()
		f.release()
		require.True(t, f.e.Visible("c"))
		cancel()
		d := <-c
		require.ErrorIs(t, d.err, context.Canceled)
		var se *waitpoint.StepError
		require.False(t, errors.As(d.err, &se), "not a step error: committed")
		require.Equal(t, source.Cancelled, d.res.Wait.Outcome)
		require.Equal(t, pos(300), d.res.Position)
		require.True(t, pending(b))

		f.ack(300)
		for _, ch := range []<-chan done{a, b} {
			d := <-ch
			require.NoError(t, d.err)
			require.Equal(t, source.Acknowledged, d.res.Wait.Outcome)
		}
	})
}

// Under AFTER_SYNC the group waits with its leader's context: when it ends,
// the wait ends for the whole group, which commits. The steps get the
// leader's values but not its cancellation.
func TestCancelLeaderAfterSync(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, vars.AfterSync, waitpoint.Options{}, gated)
		a := f.start(t.Context(), "a")
		ctx, cancel := context.WithTimeout(context.WithValue(t.Context(), ctxKey{}, "v"), time.Hour)
		b := f.start(ctx, "b")
		c := f.start(t.Context(), "c")
		f.release() // a waits for 100; b leads {b, c}, in Flush
		cancel()
		f.release()
		require.Equal(t, stepContext{value: "v"}, f.e.ctx, "the leader's values, not its deadline or cancellation")
		require.False(t, f.e.Visible("b"))

		f.ack(100)
		require.NoError(t, (<-a).err)
		synctest.Wait()
		require.False(t, f.e.Visible("c"), "the leader's cancelled context does not end the group's wait")
		f.ack(300)
		for _, ch := range []<-chan done{b, c} {
			d := <-ch
			require.NoError(t, d.err)
			require.Equal(t, source.Acknowledged, d.res.Wait.Outcome)
			require.Equal(t, 2, d.res.Group)
		}
		require.True(t, f.e.Visible("c"))
		requireJournal(t, f.j, "flush a", "flushed 100", "sync 100", "wait 100",
			"flush b,c", "flushed 300", "sync 300", "ack 100", "commit a", "wait 300", "ack 300", "commit b,c")
	})
}

// A group of one under AFTER_SYNC waits with its member's context:
// cancelling it ends the wait (Cancelled), and the transaction is committed.
func TestCancelSoleMemberAfterSync(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, vars.AfterSync, waitpoint.Options{}, gated)
		ctx, cancel := context.WithCancel(t.Context())
		a := f.start(ctx, "a")
		f.release()
		synctest.Wait()
		require.False(t, f.e.Visible("a"), "waiting for its ACK")
		cancel()
		d := <-a
		require.ErrorIs(t, d.err, context.Canceled)
		require.Equal(t, source.Cancelled, d.res.Wait.Outcome)
		require.Equal(t, 1, d.res.Group)
		require.True(t, f.e.Visible("a"), "committed whatever the wait's outcome")
	})
}

// MaxGroup bounds a group; the rest wait for the next one.
func TestMaxGroup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, vars.AfterSync, waitpoint.Options{MaxGroup: 2}, gated)
		f.ack(10_000)
		chs := f.startAll(t.Context(), "a", "b", "c", "d", "e", "f")
		for range 4 {
			f.release()
		}
		for i, ch := range chs {
			d := <-ch
			require.NoError(t, d.err)
			require.Equal(t, []int{1, 2, 2, 2, 2, 1}[i], d.res.Group)
		}
		var flushes []string
		for _, e := range f.j.list() {
			if strings.HasPrefix(e, "flush ") {
				flushes = append(flushes, e)
			}
		}
		require.Equal(t, []string{"flush a", "flush b,c", "flush d,e", "flush f"}, flushes)
	})
}

// A closed source holds nothing back: the commit happens and its wait
// reports source.ErrClosed.
func TestSourceClosed(t *testing.T) {
	for _, wp := range waitPoints {
		t.Run(wp.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFixture(t, wp, waitpoint.Options{}, nil)
				require.NoError(t, f.src.Close())
				res, err := f.p.Commit(t.Context(), "a")
				require.ErrorIs(t, err, source.ErrClosed)
				var se *waitpoint.StepError
				require.False(t, errors.As(err, &se))
				require.Equal(t, pos(100), res.Position)
				require.True(t, f.e.Visible("a"))
			})
		})
	}
}

func TestNewInvalid(t *testing.T) {
	src, err := source.New(source.Options{})
	require.NoError(t, err)
	defer src.Close()
	e := newEngine(&journal{})
	for _, tc := range []struct {
		name  string
		src   waitpoint.Source
		steps waitpoint.Steps[string]
		o     waitpoint.Options
	}{
		{"nil source", nil, e, waitpoint.Options{}},
		{"typed nil source", (*source.Source)(nil), e, waitpoint.Options{}},
		{"nil steps", src, nil, waitpoint.Options{}},
		{"negative MaxGroup", src, e, waitpoint.Options{MaxGroup: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := waitpoint.New(tc.src, tc.steps, tc.o)
			require.ErrorIs(t, err, waitpoint.ErrInvalidOptions)
			require.Nil(t, p)
		})
	}
}

func TestStepErrorText(t *testing.T) {
	for _, tc := range []struct {
		stage waitpoint.Stage
		want  string
	}{
		{waitpoint.StageQueue, "waitpoint: queue: injected"},
		{waitpoint.StageFlush, "waitpoint: flush: injected"},
		{waitpoint.StageFlushed, "waitpoint: flushed: injected"},
		{waitpoint.StageSync, "waitpoint: sync: injected"},
		{waitpoint.StageWait, "waitpoint: wait: injected"},
		{waitpoint.StageCommit, "waitpoint: commit: injected"},
		{waitpoint.Stage(99), "waitpoint: Stage(99): injected"},
	} {
		t.Run(tc.want, func(t *testing.T) {
			err := &waitpoint.StepError{Stage: tc.stage, Err: errInjected}
			require.EqualError(t, err, tc.want)
			require.ErrorIs(t, err, errInjected)
		})
	}
}

// panickySource panics in WaitPoint once.
type panickySource struct {
	waitpoint.Source
	armed bool
}

func (p *panickySource) WaitPoint() vars.WaitPoint {
	if p.armed {
		p.armed = false
		panic("wrapper bug")
	}
	return p.Source.WaitPoint()
}

// A Source whose WaitPoint panics fails that group, not the pipeline: the
// stages are released and the next commit goes through.
func TestWaitPointPanicReleasesStages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFixture(t, vars.AfterSync, waitpoint.Options{}, nil)
		f.ack(10_000)
		ps := &panickySource{Source: f.src, armed: true}
		p, err := waitpoint.New(ps, f.e, waitpoint.Options{})
		require.NoError(t, err)
		require.Panics(t, func() { _, _ = p.Commit(t.Context(), "a") })
		res, err := p.Commit(t.Context(), "b")
		require.NoError(t, err)
		require.Equal(t, source.Acknowledged, res.Wait.Outcome)
		require.True(t, f.e.Visible("b"))
	})
}
