package waitpoint_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/vars"
	"github.com/semisync-go/semisync/waitpoint"
)

// Many goroutines commit at once, in real time, while one of them flips the
// wait point and some commits are cancelled at random moments. Whatever the
// interleaving: every call returns once; the engine commits exactly the
// binlog, in binlog order; a commit is in the binlog unless it failed in
// the queue; each goroutine's commits are in its own order; and every
// committed transaction is acknowledged unless its wait was cancelled.
func TestConcurrentInvariants(t *testing.T) {
	const goroutines, perG = 16, 48
	for _, maxGroup := range []int{0, 3} {
		t.Run(fmt.Sprintf("MaxGroup=%d", maxGroup), func(t *testing.T) {
			src, err := source.New(source.Options{})
			require.NoError(t, err)
			defer src.Close()
			require.NoError(t, src.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON, rpl_semi_sync_source_timeout = 60000"))
			sess, err := src.Register(1, semisync.Position{})
			require.NoError(t, err)
			e := newEngine(&journal{})
			e.synced = make(chan semisync.Position, goroutines*perG)
			acked := make(chan struct{})
			go func() {
				defer close(acked)
				for end := range e.synced {
					sess.Ack(end)
				}
			}()
			p, err := waitpoint.New(src, e, waitpoint.Options{MaxGroup: maxGroup})
			require.NoError(t, err)

			results := make([][]done, goroutines)
			var wg sync.WaitGroup
			for g := range goroutines {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(maxGroup), uint64(g)))
					for k := range perG {
						ctx := context.Background()
						if rng.IntN(6) == 0 {
							var cancel context.CancelFunc
							ctx, cancel = context.WithCancel(ctx)
							go cancel()
						}
						if g == 0 && k%4 == 0 {
							wp := []vars.WaitPoint{vars.AfterSync, vars.AfterCommit}[k/4%2]
							if err := src.Vars().Exec("SET GLOBAL rpl_semi_sync_source_wait_point = " + wp.String()); err != nil {
								panic(err)
							}
						}
						res, err := p.Commit(ctx, fmt.Sprintf("g%d-%d", g, k))
						results[g] = append(results[g], done{res, err})
					}
				})
			}
			wg.Wait()
			close(e.synced)
			<-acked

			binlog, committed := e.state()
			require.Equal(t, binlog, committed, "engine commits = binlog, in order")
			index := map[string]int{}
			for i, tx := range binlog {
				_, dup := index[tx]
				require.False(t, dup, "%s written twice", tx)
				index[tx] = i
			}
			for g, rs := range results {
				require.Len(t, rs, perG)
				last := -1
				for k, d := range rs {
					tx := fmt.Sprintf("g%d-%d", g, k)
					i, written := index[tx]
					var se *waitpoint.StepError
					if errors.As(d.err, &se) {
						require.Equal(t, waitpoint.StageQueue, se.Stage, tx)
						require.False(t, written, "%s failed in the queue but was written", tx)
						continue
					}
					require.True(t, written, "%s committed but not written", tx)
					require.Greater(t, i, last, "%s out of its goroutine's order", tx)
					last = i
					require.Equal(t, pos(uint64(i+1)*txSize), d.res.Position, tx)
					require.GreaterOrEqual(t, d.res.Group, 1)
					if d.err != nil {
						require.ErrorIs(t, d.err, context.Canceled, tx)
						require.Equal(t, source.Cancelled, d.res.Wait.Outcome, tx)
					} else {
						require.Equal(t, source.Acknowledged, d.res.Wait.Outcome, tx)
					}
				}
			}
			require.True(t, slices.Equal(binlog, committed))
		})
	}
}

// A commit in steady state allocates nothing (the acknowledged fast path
// here; BenchmarkPipeline measures blocking waits).
func TestZeroAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are meaningless under the race detector")
	}
	for _, wp := range []vars.WaitPoint{vars.AfterSync, vars.AfterCommit} {
		t.Run(wp.String(), func(t *testing.T) {
			src, err := source.New(source.Options{})
			require.NoError(t, err)
			defer src.Close()
			require.NoError(t, src.Vars().Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON, rpl_semi_sync_source_wait_point = "+wp.String()))
			sess, err := src.Register(1, semisync.Position{})
			require.NoError(t, err)
			sess.Ack(semisync.LSN(1 << 40)) // everything to come is acknowledged
			p, err := waitpoint.New(src, &memSteps{}, waitpoint.Options{})
			require.NoError(t, err)
			ctx := context.Background()
			commit := func() {
				res, err := p.Commit(ctx, 1)
				if err != nil || res.Wait.Outcome != source.Acknowledged {
					t.Fatalf("commit: %v, %v", res.Wait, err)
				}
			}
			commit()
			require.Zero(t, testing.AllocsPerRun(1000, commit))
		})
	}
}
