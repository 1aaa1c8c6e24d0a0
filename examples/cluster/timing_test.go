package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync/relaylog"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/source"
)

// With every replica healthy, -replicas 5 -wait-count 1 -timeout 20ms once
// printed "0 of 113 commits acknowledged" and exited 1: a healthy
// acknowledgement (a relay log fsync and two loopback hops) takes up to
// tens of milliseconds on a loaded machine, a commit timed out, the source
// switched OFF and, with commits streaming, caught up only much later. A
// timeout the demo cannot judge is refused before anything starts, from a
// flag or from the option file.
func TestClusterRefusesUnjudgeableTimeout(t *testing.T) {
	cnf := filepath.Join(t.TempDir(), "my.cnf")
	require.NoError(t, os.WriteFile(cnf, []byte("[mysqld]\nrpl_semi_sync_source_timeout = 50\n"), 0o644))
	for _, args := range [][]string{
		{"-replicas", "5", "-wait-count", "1", "-timeout", "20ms"},
		{"-timeout", "99ms"},
		{"-config", cnf},
	} {
		var out, errOut bytes.Buffer
		require.Equal(t, 2, run(context.Background(), &out, &errOut, append([]string{"-duration", "300ms"}, args...)), "%v\n%s", args, out.String())
		require.Contains(t, errOut.String(), "want 100ms to 1m", "%v", args)
		require.Contains(t, errOut.String(), "could expire with every replica healthy", "%v", args)
		require.Empty(t, out.String(), "%v: nothing starts", args)
	}
}

// slowRelay is a relay log file on a slow disk: every fsync takes delay.
type slowRelay struct {
	*relaylog.File
	delay time.Duration
}

func (r slowRelay) Sync() error {
	time.Sleep(r.delay) // the slowness under test, not a synchronisation
	return r.File.Sync()
}

// A machine slower than an accepted timeout: every replica is healthy but
// each fsync takes 600 ms, far longer than the 100 ms timeout, so that a
// timer fired late on a loaded machine cannot let an acknowledgement win
// (with 150 ms the margin was 50 ms). Scene 1's
// commits time out; the replicas acknowledge them later and the source
// re-enters semisync by itself, so the program says that the scene cannot
// be judged with this timeout on this machine and exits 2, where it used
// to report "check FAILED" and exit 1.
func TestClusterSlowMachineNotJudged(t *testing.T) {
	s, reg, err := parse(io.Discard, []string{"-timeout", "100ms", "-duration", "300ms", "-committers", "4", "-dir", t.TempDir()})
	require.NoError(t, err)
	s.wrapRelay = func(f *relaylog.File) replica.RelayLog { return slowRelay{f, 600 * time.Millisecond} }
	var out, errOut bytes.Buffer
	require.Equal(t, 2, play(context.Background(), &out, &errOut, s, reg), "stdout: %s\nstderr: %s", out.String(), errOut.String())
	require.Regexp(t, `^cluster: scene 1 cannot be judged: [1-9]\d* of its [1-9]\d* commits waited longer than rpl_semi_sync_source_timeout \(100ms\) although its 3 replicas were healthy`, errOut.String())
	require.Contains(t, errOut.String(), "use a longer -timeout")
	require.NotContains(t, out.String(), "check FAILED")
}

// slowNotFailed accepts exactly the tallies a timeout switch-off explains.
func TestTallySlowNotFailed(t *testing.T) {
	mk := func(kv ...int) tally {
		var t tally
		for i := 0; i < len(kv); i += 2 {
			for range kv[i+1] {
				t.add(source.Outcome(kv[i]))
			}
		}
		return t
	}
	ack, to, async, off, dis := int(source.Acknowledged), int(source.TimedOut), int(source.Async), int(source.SwitchedOff), int(source.Disabled)
	for _, tc := range []struct {
		name             string
		t                tally
		offs, timeoutOff uint64
		want             bool
	}{
		{"timeouts, then async", mk(ack, 10, to, 2, async, 30, off, 3), 1, 1, true},
		{"two switch-offs by timeouts", mk(to, 2, async, 5), 2, 2, true},
		{"no timeout", mk(ack, 10, async, 3), 1, 1, false},
		{"no switch-off", mk(ack, 10, to, 1), 0, 0, false},
		{"a switch-off not by a timeout", mk(to, 1, async, 3), 2, 1, false},
		{"another outcome", mk(to, 1, async, 3, dis, 1), 1, 1, false},
		{"a failed commit", mk(to, 1, 0, 1), 1, 1, false},
	} {
		require.Equal(t, tc.want, tc.t.slowNotFailed(tc.offs, tc.timeoutOff), tc.name)
	}
}
