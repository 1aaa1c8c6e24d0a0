// Command cluster runs a semisync source and its replicas in one process,
// on real sockets and real files, and walks through what semisynchronous
// replication promises:
//
//  1. all replicas healthy: every commit is acknowledged;
//  2. one replica stopped: commits are still acknowledged by the others;
//  3. a second replica stopped: a commit times out once, the source falls
//     back to asynchronous replication and later commits return at once;
//  4. the replicas restarted from their relay logs: they catch up and the
//     source re-enters semisynchronous mode by itself;
//  5. a failover check: every commit that returned "acknowledged" is read
//     back from at least wait_for_replica_count relay log files.
//
// The source writes a file-backed binlog with group commit (one fsync per
// group, package waitpoint); each replica writes a relay log file and
// fsyncs it before every acknowledgement (package relaylog); they talk
// over loopback TCP (package transport). After each scene it prints the
// source's SHOW STATUS, and at the end a summary: commits by outcome, the
// wait-latency histogram and the per-replica ledger. It exits 1 if a check
// fails and 2 on bad flags or configuration, including a timeout shorter
// than 100 ms, which healthy acknowledgements can outlast, or when a
// healthy scene's commits timed out all the same and the replicas
// acknowledged them later: the machine is slower than the timeout and the
// scene cannot be judged.
//
// The source's variables and status follow -flavor: MySQL 8.0.26+ names
// (rpl_semi_sync_source_*, the default), the legacy plugins' names
// (rpl_semi_sync_master_*) or MariaDB's, whose source always waits for one
// replica (it has no wait count). A -config file is read as that flavor's
// server reads it; the semisync options it skips (a [mariadb] group under
// a MySQL flavor, a loose- option of another flavor) are printed as
// warnings before the run.
//
//	go run ./examples/cluster [-flavor mysql] [-replicas 3] [-wait-count 2] [-wait-point AFTER_SYNC]
//	    [-timeout 1s] [-duration 2s] [-committers 16] [-dir DIR] [-config my.cnf]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/relaylog"
	"github.com/semisync-go/semisync/replica"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/status"
	"github.com/semisync-go/semisync/vars"
)

func main() {
	// An interrupt ends the run early and still removes the temporary
	// directory.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Stdout, os.Stderr, os.Args[1:])
	stop()
	os.Exit(code)
}

// settings are the program's flags.
type settings struct {
	replicas, waitCount, committers int
	waitPoint                       string
	timeout, duration               time.Duration
	dir, config                     string
	flavor                          semisync.Flavor
	names                           names

	// wrapRelay, for tests, wraps each replica's relay log (see
	// startWith).
	wrapRelay func(*relaylog.File) replica.RelayLog
}

// run is the program: it returns the exit code. ctx ending (an interrupt)
// stops it between steps, with exit code 1.
func run(ctx context.Context, stdout, stderr io.Writer, args []string) int {
	s, reg, err := parse(stderr, args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "cluster:", err)
		return 2
	}
	return play(ctx, stdout, stderr, s, reg)
}

// play runs the demo with settings that parse accepted and returns the
// exit code.
func play(ctx context.Context, stdout, stderr io.Writer, s settings, reg *vars.Registry) int {
	dir := s.dir
	var err error
	if dir == "" {
		if dir, err = os.MkdirTemp("", "semisync-cluster-"); err != nil {
			fmt.Fprintln(stderr, "cluster:", err)
			return 1
		}
		defer os.RemoveAll(dir)
	}
	ok, err := demo(ctx, stdout, s, reg, dir)
	var nj *notJudgedError
	if errors.As(err, &nj) {
		fmt.Fprintln(stderr, "cluster:", err)
		return 2
	}
	if err != nil {
		fmt.Fprintln(stderr, "cluster:", err)
		return 1
	}
	if !ok {
		fmt.Fprintln(stderr, "cluster: a check failed")
		return 1
	}
	return 0
}

// parse reads the flags and the option file into a registry of the
// -flavor's names: the flags' defaults first, then the option file, then
// the flags given on the command line. It prints the option file's
// warnings to stderr.
func parse(stderr io.Writer, args []string) (settings, *vars.Registry, error) {
	var s settings
	var flavor string
	fs := flag.NewFlagSet("cluster", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&flavor, "flavor", "mysql", "the source's names: mysql (8.0.26+), mysql-legacy or mariadb")
	fs.IntVar(&s.replicas, "replicas", 3, "number of replicas (at least 2)")
	fs.IntVar(&s.waitCount, "wait-count", 2, "rpl_semi_sync_source_wait_for_replica_count (mariadb: always 1)")
	fs.StringVar(&s.waitPoint, "wait-point", "AFTER_SYNC", "rpl_semi_sync_source_wait_point: AFTER_SYNC or AFTER_COMMIT")
	fs.DurationVar(&s.timeout, "timeout", time.Second, "rpl_semi_sync_source_timeout: 100ms to 1m")
	fs.DurationVar(&s.duration, "duration", 2*time.Second, "how long each scene's workload runs")
	fs.IntVar(&s.committers, "committers", 16, "concurrent committing sessions")
	fs.StringVar(&s.dir, "dir", "", "directory for the binlog and relay logs (default: a temporary directory, removed at exit)")
	fs.StringVar(&s.config, "config", "", "a my.cnf whose semisync settings the source starts with (flags given explicitly override it)")
	if err := fs.Parse(args); err != nil {
		return s, nil, err
	}
	if fs.NArg() > 0 {
		return s, nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case s.replicas < 2 || s.replicas > 64:
		return s, nil, fmt.Errorf("-replicas %d: want 2 to 64 (the scenes stop two replicas)", s.replicas)
	case s.committers < 1 || s.committers > 1024:
		return s, nil, fmt.Errorf("-committers %d: want 1 to 1024", s.committers)
	case s.duration <= 0 || s.duration > time.Hour:
		return s, nil, fmt.Errorf("-duration %v: want more than 0 and at most 1h", s.duration)
	case s.timeout%time.Millisecond != 0 || s.timeout <= 0:
		return s, nil, fmt.Errorf("-timeout %v: want a positive whole number of milliseconds", s.timeout)
	case !strings.EqualFold(s.waitPoint, "AFTER_SYNC") && !strings.EqualFold(s.waitPoint, "AFTER_COMMIT"):
		return s, nil, fmt.Errorf("-wait-point %q: want AFTER_SYNC or AFTER_COMMIT", s.waitPoint)
	}
	var err error
	if s.flavor, err = semisync.ParseFlavor(flavor); err != nil {
		return s, nil, fmt.Errorf("-flavor %q: want mysql, mysql-legacy or mariadb", flavor)
	}
	if s.names, err = newNames(s.flavor); err != nil {
		return s, nil, err
	}
	reg, err := vars.NewRegistry(s.flavor)
	if err != nil {
		return s, nil, err
	}
	n := s.names
	set := func(name, value string) error {
		return reg.Exec(fmt.Sprintf("SET GLOBAL %s = %s", n.must(name), value))
	}
	byFlag := map[string]func() error{
		"wait-count": func() error {
			if _, ok := n.v("rpl_semi_sync_source_wait_for_replica_count"); !ok {
				if s.waitCount != 1 {
					return fmt.Errorf("%s has no wait count: its source waits for one replica", s.flavor)
				}
				return nil
			}
			return set("rpl_semi_sync_source_wait_for_replica_count", fmt.Sprint(s.waitCount))
		},
		"wait-point": func() error { return set("rpl_semi_sync_source_wait_point", "'"+s.waitPoint+"'") },
		"timeout":    func() error { return set("rpl_semi_sync_source_timeout", fmt.Sprint(s.timeout.Milliseconds())) },
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if _, ok := n.v("rpl_semi_sync_source_wait_for_replica_count"); !ok && !given["wait-count"] {
		s.waitCount = 1 // the default, where the flavor has no variable
	}
	for _, name := range []string{"wait-count", "wait-point", "timeout"} {
		if err := byFlag[name](); err != nil {
			return s, nil, fmt.Errorf("-%s: %w", name, err)
		}
	}
	if s.config != "" {
		f, err := os.Open(s.config)
		if err != nil {
			return s, nil, fmt.Errorf("-config: %w", err)
		}
		warnings, err := reg.LoadOptionFileWarnings(f, s.config)
		f.Close()
		for _, w := range warnings {
			fmt.Fprintln(stderr, "cluster:", w)
		}
		if err != nil {
			return s, nil, fmt.Errorf("-config: %w", err)
		}
	}
	var flagErr error
	fs.Visit(func(f *flag.Flag) {
		if apply, ok := byFlag[f.Name]; ok && flagErr == nil {
			if err := apply(); err != nil {
				flagErr = fmt.Errorf("-%s: %w", f.Name, err)
			}
		}
	})
	if flagErr != nil {
		return s, nil, flagErr
	}
	if err := set("rpl_semi_sync_source_enabled", "ON"); err != nil {
		return s, nil, err
	}
	// The settings as they end up, from the flags or the option file.
	cfg := reg.Config()
	switch {
	case int(cfg.WaitForReplicaCount) > s.replicas:
		name, _ := n.v("rpl_semi_sync_source_wait_for_replica_count") // MariaDB's count is always 1
		return s, nil, fmt.Errorf("%s %d is more than the %d replicas", name, cfg.WaitForReplicaCount, s.replicas)
	case cfg.Timeout() < minTimeout || cfg.Timeout() > time.Minute:
		return s, nil, fmt.Errorf("%s %v: want %v to 1m: the demo expects every commit to be acknowledged "+
			"while enough replicas are healthy, and a healthy acknowledgement (a relay log fsync and two loopback hops) can take "+
			"tens of milliseconds on a loaded machine, so a shorter timeout could expire with every replica healthy",
			n.must("rpl_semi_sync_source_timeout"), cfg.Timeout(), minTimeout)
	}
	s.waitCount, s.waitPoint, s.timeout = int(max(1, cfg.WaitForReplicaCount)), cfg.WaitPoint.String(), cfg.Timeout()
	return s, reg, nil
}

// minTimeout is the shortest rpl_semi_sync_source_timeout the demo can
// judge. Its healthy scenes expect every commit to be acknowledged, which
// holds only while acknowledgements come faster than the timeout: each
// waits for a relay log fsync and two loopback hops, a few milliseconds
// at the 99th percentile on an idle machine and up to about 150 ms under
// heavy load. Shorter timeouts are refused up front; a machine slower
// still is caught by the scene itself (notJudgedError).
const minTimeout = 100 * time.Millisecond

// notJudgedError ends a run whose healthy scene had commits time out
// although every replica was running and, as the source's re-entry
// proves, acknowledged them later: the machine acknowledges more slowly
// than the timeout, so the scene's check can neither pass nor fail. The
// program exits 2, as for settings it refuses up front.
type notJudgedError struct {
	timeoutVar string // the flavor's rpl_semi_sync_source_timeout
	scene      int
	timedOut   int
	commits    int
	timeout    time.Duration
	replicas   int
	reentered  time.Duration // after the scene's end
}

func (e *notJudgedError) Error() string {
	return fmt.Sprintf("scene %d cannot be judged: %d of its %d commits waited longer than %s (%v) "+
		"although its %d replicas were healthy; they acknowledged later (the source re-entered semisync by itself %v "+
		"after the scene), so this machine acknowledges more slowly than the timeout: use a longer -timeout",
		e.scene, e.timedOut, e.commits, e.timeoutVar, e.timeout, e.replicas, e.reentered.Round(time.Millisecond))
}

// demo builds the cluster, plays the scenes and prints the summary. It
// reports whether every check passed; a *notJudgedError says that a scene
// could not be judged on this machine with these settings.
func demo(ctx context.Context, w io.Writer, s settings, reg *vars.Registry, dir string) (bool, error) {
	p := func(format string, a ...any) { fmt.Fprintf(w, format, a...) }
	c, err := startWith(dir, reg, s.replicas, s.wrapRelay)
	if err != nil {
		return false, err
	}
	defer c.close()
	p("A source and %d replicas on %s, files in %s\n", s.replicas, c.addr(), dir)
	// Files left by an earlier run in -dir: what recovery cut, if anything.
	c.printRecovery(w, true, 0)
	for i := range c.nodes {
		c.printRecovery(w, false, i)
	}
	p("\n")
	prefix := strings.TrimSuffix(s.names.sourcePrefix(), "_")
	p("mysql> SHOW VARIABLES LIKE '%s%%';\n", prefix)
	if err := semisync.WriteTable(w, reg.Show(prefix+"%")); err != nil {
		return false, err
	}
	pb := newProgress(w, s.duration)
	checks := &checker{w: w}
	W := s.waitCount
	// scene runs the workload with left replicas running and checks what
	// semisync promises: with at least W of them every commit is
	// acknowledged; with fewer none is, the source ends OFF, and if it was
	// ON when the scene began it switched off exactly once (the commits
	// waiting then timed out; the later ones returned at once as async).
	// A healthy scene whose commits timed out is judged by what followed
	// (see slowNotFailed): the source must re-enter semisync by itself
	// within limit.
	limit := max(10*time.Second, 10*s.timeout)
	scene := func(num int, title string, left int) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if title != "" {
			p("\n== %s\n", title)
		}
		before := c.src.Snapshot()
		wasOn, offs, timeoutOffs := c.src.State().On, before.NoTimes, before.SwitchOffs[status.ReasonTimeout]
		t := c.workload(ctx, s.duration, s.committers, pb)
		p("%s\n", t)
		after := c.src.Snapshot()
		on, offs := c.src.State().On, after.NoTimes-offs
		timeoutOffs = after.SwitchOffs[status.ReasonTimeout] - timeoutOffs
		if left >= W {
			err := t.expectAcknowledged(on)
			if err != nil && t.slowNotFailed(offs, timeoutOffs) {
				if took, on := c.waitFor(ctx, limit, func(st source.State) bool { return st.On }); on {
					return &notJudgedError{timeoutVar: s.names.must("rpl_semi_sync_source_timeout"), scene: num,
						timedOut: t.by[source.TimedOut], commits: t.total(), timeout: s.timeout, replicas: left, reentered: took}
				}
			}
			checks.check(err)
		} else {
			checks.check(t.expectFallback(wasOn, on, offs))
		}
		return c.showStatus(w)
	}

	if err := c.waitClients(s.replicas); err != nil {
		return false, err
	}
	if err := scene(1, fmt.Sprintf("1. All %d replicas healthy, %s, %s", s.replicas, s.names.waitCountSetting(W), s.waitPoint), s.replicas); err != nil {
		return false, err
	}
	for stopped := 1; stopped <= 2; stopped++ {
		i := s.replicas - stopped
		if err := c.stopReplica(i); err != nil {
			return false, err
		}
		left := s.replicas - stopped
		if err := c.waitClients(left); err != nil { // the source has counted it out
			return false, err
		}
		title := fmt.Sprintf("%d. Replica %d stopped: replicas left %d, acknowledgements needed %d", stopped+1, i+1, left, W)
		if err := scene(stopped+1, title, left); err != nil {
			return false, err
		}
	}

	for i := s.replicas - 2; i < s.replicas; i++ {
		if err := c.startReplica(i); err != nil {
			return false, err
		}
	}
	if err := c.waitClients(s.replicas); err != nil {
		return false, err
	}
	p("\n== 4. Replicas %d and %d restarted from their relay logs at %v and %v\n", s.replicas-1, s.replicas,
		c.nodes[s.replicas-2].resumedAt, c.nodes[s.replicas-1].resumedAt)
	for i := s.replicas - 2; i < s.replicas; i++ {
		c.printRecovery(w, false, i)
	}
	// The source switches back ON when enough replicas have acknowledged
	// its newest write (spec §4.5): they catch up first.
	if took, on := c.waitFor(ctx, limit, func(st source.State) bool { return st.On }); on {
		p("they caught up: the source re-entered semisync after %v\n", took.Round(time.Millisecond))
		checks.check(nil)
	} else {
		checks.check(fmt.Errorf("the source did not re-enter semisync within %v", limit))
	}
	if err := scene(4, "", s.replicas); err != nil {
		return false, err
	}

	p("\n== 5. Failover check: every acknowledged commit is in at least %d relay logs\n", W)
	if err := c.stopAll(); err != nil {
		return false, err
	}
	n, short, err := c.failoverCheck(W)
	if err != nil {
		return false, err
	}
	if short == 0 && n > 0 {
		p("failover check: %d acknowledged commits, each in at least %d of %d relay logs: OK\n", n, W, s.replicas)
		checks.check(nil)
	} else {
		p("failover check: %d acknowledged commits, %d of them in fewer than %d relay logs: FAILED\n", n, short, W)
		checks.check(fmt.Errorf("%d of %d acknowledged commits missing from the relay logs", short, n))
	}

	c.summary(w)
	if checks.failed > 0 {
		p("\n%d check(s) failed\n", checks.failed)
	}
	return checks.failed == 0, nil
}

// checker prints each scene's verdict and counts failures.
type checker struct {
	w      io.Writer
	failed int
}

func (c *checker) check(err error) {
	if err != nil {
		c.failed++
		fmt.Fprintf(c.w, "check FAILED: %v\n", err)
		return
	}
	fmt.Fprintln(c.w, "check ok")
}

// tallyLine formats outcome counts.
func tallyLine(t tally) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d commits in %v", t.total(), t.took.Round(10*time.Millisecond))
	for _, o := range outcomes {
		if n := t.by[o]; n > 0 {
			fmt.Fprintf(&b, ", %s %d", o, n)
		}
	}
	return b.String()
}
