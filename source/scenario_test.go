package source_test

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/ackset"
	"github.com/semisync-go/semisync/source"
	"github.com/semisync-go/semisync/status"
)

// The flag name is the one ackset's scenario test uses, so that
// "go test ./... -run TestScenarios -update" rewrites every package's goldens.
var updateScenarios = flag.Bool("update", false, "rewrite the golden transcripts of testdata/scenarios/*.txt")

// TestScenarios runs every testdata/scenarios/*.txt script against a Source
// inside one synctest bubble and compares the transcript with the .golden
// file beside it (go test ./source -run TestScenarios -update rewrites them).
//
// The transcript repeats every script line; what a command prints follows it,
// indented. After every command the runner waits until every goroutine of the
// bubble is blocked (synctest.Wait) and prints, sorted by name, each commit
// wait that finished since the previous command ("w1 -> acknowledged
// waited=0s"). Time is synctest's fake clock: it moves only on tick.
//
// Commands (# starts a comment; POS is a bare offset in binlog.000001, or
// file:offset, or "none" for the zero Position; rN names a session of replica
// ID N, and rN.x another session of the same ID):
//
//	new [flavor=F] [failclosed] [policy=P] [stall=D] [solicit=D] [buffer=N]
//	                     a new Source (closing the previous one, if any); P is
//	                     count:N, any:N:ID,ID... or first:N:ID,ID...
//	set SQL              Vars().Exec("SET GLOBAL " + SQL)
//	enable | disable     set the flavor's _enabled variable ON or OFF
//	policy P             SetPolicy
//	register rN POS      Register(N, POS); prints a refusal
//	close rN             Session.Close
//	write POS...         Flushed, for each POS in turn
//	appended POS...      Appended, for each POS in turn: the binlog's end
//	                     after events that are no commit group (the binlog
//	                     found at startup, a rotation)
//	wait wN POS          Wait in a goroutine, with a cancellable context
//	cancel wN            end that wait's context
//	ack rN POS           Session.Ack; prints the AckResult
//	flag rN POS...       Session.ReplyRequired; prints true/false per POS
//	skip rN POS          Session.Skipped
//	solicit rN           Session.SolicitAck; prints true/false
//	tick D               time.Sleep(D) inside the bubble; prints the clock
//	reset                ResetMaster
//	shutdown             Source.Close
//	status [SUFFIX...]   SHOW STATUS rows (all, one per line; or the named
//	                     ones without their prefix, on one line)
//	counters             what SHOW does not show: wait_timeouts, switch-offs
//	                     by reason, dropped events; starts_refused and
//	                     replica_regressions when not zero
//	state                State()
//	tail                 Unacknowledged(), with "at-risk=(FROM, TO]" when
//	                     Tail.AtRisk
//	events               the Observer's events since the last "events"
//	ledger               the snapshot's ledger, one line per replica (the
//	                     regression fields when it regressed)
//
// A script must not end with a wait still pending (end it with shutdown).
func TestScenarios(t *testing.T) {
	scripts, err := filepath.Glob(filepath.Join("testdata", "scenarios", "*.txt"))
	require.NoError(t, err)
	require.NotEmpty(t, scripts)
	for _, script := range scripts {
		t.Run(strings.TrimSuffix(filepath.Base(script), ".txt"), func(t *testing.T) {
			text, err := os.ReadFile(script)
			require.NoError(t, err)
			got := runScenario(t, script, string(text))
			golden := strings.TrimSuffix(script, ".txt") + ".golden"
			if *updateScenarios {
				require.NoError(t, os.WriteFile(golden, []byte(got), 0o644))
				return
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "missing golden file: run go test ./source -run TestScenarios -update")
			require.Equal(t, string(want), got, "transcript of %s differs from %s", script, golden)
		})
	}
}

// scnCommand is one script command: its usage line, how many arguments it
// takes (maxArgs < 0: any number from minArgs up) and its handler.
type scnCommand struct {
	usage            string
	minArgs, maxArgs int
	needSource       bool
	run              func(sc *scenario, args []string) error
}

// scnCommands is the interpreter's table, keyed by command name.
var scnCommands = map[string]scnCommand{
	"new":      {"new [flavor=F] [failclosed] [policy=P] [stall=D] [solicit=D] [buffer=N]", 0, -1, false, (*scenario).cmdNew},
	"set":      {"set NAME = VALUE[, ...]", 1, -1, true, (*scenario).cmdSet},
	"enable":   {"enable", 0, 0, true, func(sc *scenario, _ []string) error { return sc.setEnabled("ON") }},
	"disable":  {"disable", 0, 0, true, func(sc *scenario, _ []string) error { return sc.setEnabled("OFF") }},
	"policy":   {"policy count:N|any:N:IDS|first:N:IDS", 1, 1, true, (*scenario).cmdPolicy},
	"register": {"register rN POS", 2, 2, true, (*scenario).cmdRegister},
	"close":    {"close rN", 1, 1, true, (*scenario).cmdClose},
	"write":    {"write POS...", 1, -1, true, (*scenario).cmdWrite},
	"appended": {"appended POS...", 1, -1, true, (*scenario).cmdAppended},
	"wait":     {"wait wN POS", 2, 2, true, (*scenario).cmdWait},
	"cancel":   {"cancel wN", 1, 1, true, (*scenario).cmdCancel},
	"ack":      {"ack rN POS", 2, 2, true, (*scenario).cmdAck},
	"flag":     {"flag rN POS...", 2, -1, true, (*scenario).cmdFlag},
	"skip":     {"skip rN POS", 2, 2, true, (*scenario).cmdSkip},
	"solicit":  {"solicit rN", 1, 1, true, (*scenario).cmdSolicit},
	"tick":     {"tick DURATION", 1, 1, true, (*scenario).cmdTick},
	"reset":    {"reset", 0, 0, true, func(sc *scenario, _ []string) error { sc.src.ResetMaster(); return nil }},
	"shutdown": {"shutdown", 0, 0, true, func(sc *scenario, _ []string) error { return sc.src.Close() }},
	"status":   {"status [SUFFIX...]", 0, -1, true, (*scenario).cmdStatus},
	"counters": {"counters", 0, 0, true, (*scenario).cmdCounters},
	"state":    {"state", 0, 0, true, (*scenario).cmdState},
	"tail":     {"tail", 0, 0, true, (*scenario).cmdTail},
	"events":   {"events", 0, 0, true, (*scenario).cmdEvents},
	"ledger":   {"ledger", 0, 0, true, (*scenario).cmdLedger},
}

// scenario is the interpreter's state for one script, inside one bubble.
type scenario struct {
	start    time.Time
	src      *source.Source
	sessions map[string]*source.Session
	waits    map[string]*scnWait
	out      []string // what the current command printed

	mu     sync.Mutex // guards events and every scnWait's result fields
	events []source.Event
}

// scnWait is one commit wait started by the script.
type scnWait struct {
	cancel   context.CancelFunc
	done     bool // set by the waiting goroutine
	reported bool
	res      source.Result
	err      error
}

// runScenario runs one script (named path in messages) and returns its
// transcript.
func runScenario(t *testing.T, path, script string) string {
	var out strings.Builder
	synctest.Test(t, func(t *testing.T) {
		sc := &scenario{start: time.Now(), sessions: map[string]*source.Session{}, waits: map[string]*scnWait{}}
		t.Cleanup(func() {
			if sc.src != nil {
				_ = sc.src.Close()
			}
			for _, w := range sc.waits {
				w.cancel()
			}
		})
		lines := bufio.NewScanner(strings.NewReader(script))
		for n := 1; lines.Scan(); n++ {
			text := lines.Text()
			out.WriteString(text + "\n")
			fields := strings.Fields(text)
			if len(fields) == 0 || strings.HasPrefix(fields[0], "#") {
				continue
			}
			if err := sc.exec(fields); err != nil {
				t.Fatalf("%s:%d: %q: %v", path, n, text, err)
			}
			for _, l := range sc.out {
				out.WriteString("    " + l + "\n")
			}
			sc.out = sc.out[:0]
		}
		require.NoError(t, lines.Err())
		require.NotNil(t, sc.src, "%s: the script never ran new", path)
		var pending []string
		for name, w := range sc.waits {
			if !w.reported {
				pending = append(pending, name)
			}
		}
		slices.Sort(pending)
		require.Empty(t, pending, "%s: waits still pending at the end of the script (end it with shutdown)", path)
	})
	return out.String()
}

// exec runs one command, then lets the bubble settle and reports the waits
// that finished.
func (sc *scenario) exec(fields []string) error {
	cmd, ok := scnCommands[fields[0]]
	if !ok {
		return fmt.Errorf("unknown command %q", fields[0])
	}
	args := fields[1:]
	if len(args) < cmd.minArgs || (cmd.maxArgs >= 0 && len(args) > cmd.maxArgs) {
		return fmt.Errorf("usage: %s", cmd.usage)
	}
	if cmd.needSource && sc.src == nil {
		return errors.New("no source yet: the script must start with new")
	}
	if err := cmd.run(sc, args); err != nil {
		return err
	}
	synctest.Wait()
	sc.reportWaits()
	return nil
}

func (sc *scenario) printf(format string, a ...any) {
	sc.out = append(sc.out, fmt.Sprintf(format, a...))
}

// result prints "error: ..." for an error the script expects to see.
func (sc *scenario) result(err error) {
	if err != nil {
		sc.printf("error: %v", err)
	}
}

func (sc *scenario) reportWaits() {
	sc.mu.Lock()
	defer sc.mu.Unlock()
	var names []string
	for name, w := range sc.waits {
		if w.done && !w.reported {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		w := sc.waits[name]
		w.reported = true
		line := fmt.Sprintf("%s -> %s waited=%s", name, w.res, w.res.Waited)
		if w.err != nil {
			line += " err=" + w.err.Error()
		}
		sc.printf("%s", line)
	}
}

// Observe records an event; the source calls it on its own goroutine.
func (sc *scenario) Observe(e source.Event) {
	sc.mu.Lock()
	sc.events = append(sc.events, e)
	sc.mu.Unlock()
}

func (sc *scenario) cmdNew(args []string) error {
	var o source.Options
	for _, a := range args {
		key, val, _ := strings.Cut(a, "=")
		var err error
		switch key {
		case "flavor":
			o.Flavor, err = semisync.ParseFlavor(val)
		case "failclosed":
			o.FailClosed = true
		case "policy":
			var pol ackset.Policy
			pol, err = scnPolicy(val)
			o.Policy = &pol
		case "stall":
			o.StallAfter, err = time.ParseDuration(val)
		case "solicit":
			o.SolicitAfter, err = time.ParseDuration(val)
		case "buffer":
			o.EventBuffer, err = strconv.Atoi(val)
		default:
			err = fmt.Errorf("unknown option %q", a)
		}
		if err != nil {
			return err
		}
	}
	if sc.src != nil {
		if err := sc.src.Close(); err != nil {
			return err
		}
		synctest.Wait()
		sc.reportWaits()
	}
	o.Observer = sc
	src, err := source.New(o)
	if err != nil {
		return err
	}
	sc.src = src
	clear(sc.sessions)
	sc.mu.Lock()
	sc.events = nil
	sc.mu.Unlock()
	return nil
}

func (sc *scenario) cmdSet(args []string) error {
	sc.result(sc.src.Vars().Exec("SET GLOBAL " + strings.Join(args, " ")))
	return nil
}

// setEnabled sets the enabled variable under the source's flavor's name.
func (sc *scenario) setEnabled(v string) error {
	name := "rpl_semi_sync_master_enabled"
	if sc.src.Flavor() == semisync.FlavorMySQL {
		name = "rpl_semi_sync_source_enabled"
	}
	return sc.cmdSet([]string{name, "=", v})
}

func (sc *scenario) cmdPolicy(args []string) error {
	p, err := scnPolicy(args[0])
	if err != nil {
		return err
	}
	sc.result(sc.src.SetPolicy(p))
	return nil
}

func (sc *scenario) cmdRegister(args []string) error {
	id, err := scnReplicaID(args[0])
	if err != nil {
		return err
	}
	p, err := scnPos(args[1])
	if err != nil {
		return err
	}
	sess, err := sc.src.Register(id, p)
	if err != nil {
		sc.result(err)
		return nil
	}
	sc.sessions[args[0]] = sess
	return nil
}

func (sc *scenario) session(name string) (*source.Session, error) {
	sess, ok := sc.sessions[name]
	if !ok {
		return nil, fmt.Errorf("no session %q (register it first)", name)
	}
	return sess, nil
}

func (sc *scenario) cmdClose(args []string) error {
	sess, err := sc.session(args[0])
	if err != nil {
		return err
	}
	sess.Close()
	return nil
}

func (sc *scenario) cmdWrite(args []string) error {
	for _, a := range args {
		p, err := scnPos(a)
		if err != nil {
			return err
		}
		sc.result(sc.src.Flushed(p))
	}
	return nil
}

func (sc *scenario) cmdAppended(args []string) error {
	for _, a := range args {
		p, err := scnPos(a)
		if err != nil {
			return err
		}
		sc.result(sc.src.Appended(p))
	}
	return nil
}

func (sc *scenario) cmdWait(args []string) error {
	name := args[0]
	if !strings.HasPrefix(name, "w") {
		return fmt.Errorf("wait names start with w, got %q", name)
	}
	if w, ok := sc.waits[name]; ok && !w.reported {
		return fmt.Errorf("wait %s is still pending", name)
	}
	p, err := scnPos(args[1])
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	w := &scnWait{cancel: cancel}
	sc.waits[name] = w
	src := sc.src
	go func() {
		res, err := src.Wait(ctx, p)
		sc.mu.Lock()
		w.res, w.err, w.done = res, err, true
		sc.mu.Unlock()
	}()
	return nil
}

func (sc *scenario) cmdCancel(args []string) error {
	w, ok := sc.waits[args[0]]
	if !ok {
		return fmt.Errorf("no wait %q", args[0])
	}
	w.cancel()
	return nil
}

func (sc *scenario) cmdAck(args []string) error {
	sess, err := sc.session(args[0])
	if err != nil {
		return err
	}
	p, err := scnPos(args[1])
	if err != nil {
		return err
	}
	sc.printf("%s", sess.Ack(p))
	return nil
}

func (sc *scenario) cmdFlag(args []string) error {
	sess, err := sc.session(args[0])
	if err != nil {
		return err
	}
	var parts []string
	for _, a := range args[1:] {
		p, err := scnPos(a)
		if err != nil {
			return err
		}
		parts = append(parts, fmt.Sprintf("%s=%t", scnFmtPos(p), sess.ReplyRequired(p)))
	}
	if len(parts) == 1 {
		_, parts[0], _ = strings.Cut(parts[0], "=")
	}
	sc.printf("%s", strings.Join(parts, " "))
	return nil
}

func (sc *scenario) cmdSkip(args []string) error {
	sess, err := sc.session(args[0])
	if err != nil {
		return err
	}
	p, err := scnPos(args[1])
	if err != nil {
		return err
	}
	sess.Skipped(p)
	return nil
}

func (sc *scenario) cmdSolicit(args []string) error {
	sess, err := sc.session(args[0])
	if err != nil {
		return err
	}
	sc.printf("%t", sess.SolicitAck())
	return nil
}

func (sc *scenario) cmdTick(args []string) error {
	d, err := time.ParseDuration(args[0])
	if err != nil || d <= 0 {
		return fmt.Errorf("bad duration %q", args[0])
	}
	time.Sleep(d)
	sc.printf("now +%s", time.Since(sc.start))
	return nil
}

// statusPrefixes are the SHOW STATUS name prefixes "status SUFFIX" strips.
var statusPrefixes = [...]string{"Rpl_semi_sync_source_", "Rpl_semi_sync_master_"}

func (sc *scenario) cmdStatus(args []string) error {
	rows := sc.src.Show("%")
	if len(args) == 0 {
		for _, r := range rows {
			sc.printf("%s %s", r.Name, r.Value)
		}
		return nil
	}
	byName := map[string]string{}
	for _, r := range rows {
		name := r.Name
		for _, p := range statusPrefixes {
			name = strings.TrimPrefix(name, p)
		}
		byName[name] = r.Value
	}
	var parts []string
	for _, a := range args {
		v, ok := byName[a]
		if !ok {
			return fmt.Errorf("no status variable with suffix %q in flavor %s", a, sc.src.Flavor())
		}
		parts = append(parts, a+"="+v)
	}
	sc.printf("%s", strings.Join(parts, " "))
	return nil
}

func (sc *scenario) cmdCounters([]string) error {
	snap := sc.src.Snapshot()
	var parts []string
	for r, n := range snap.SwitchOffs {
		if n != 0 {
			parts = append(parts, fmt.Sprintf("%s:%d", status.SwitchOffReason(r), n))
		}
	}
	line := fmt.Sprintf("wait_timeouts=%d switch_offs=[%s] dropped_events=%d",
		snap.WaitTimeouts, strings.Join(parts, " "), sc.src.DroppedEvents())
	if snap.StartsRefused != 0 {
		line += fmt.Sprintf(" starts_refused=%d", snap.StartsRefused)
	}
	if snap.ReplicaRegressions != 0 {
		line += fmt.Sprintf(" replica_regressions=%d", snap.ReplicaRegressions)
	}
	sc.printf("%s", line)
	return nil
}

func (sc *scenario) cmdLedger([]string) error {
	rows := sc.src.Snapshot().Replicas
	if len(rows) == 0 {
		sc.printf("(none)")
	}
	for _, r := range rows {
		line := fmt.Sprintf("r%d connected=%t sessions=%d start=%s acked=%s acks=%d stale=%d",
			r.ID, r.Connected, r.Sessions, scnFmtPos(r.Start), scnFmtPos(r.Acked), r.Acks, r.StaleAcks)
		if r.Regressions != 0 {
			line += fmt.Sprintf(" regressions=%d last=%s->%s at=+%s",
				r.Regressions, scnFmtPos(r.RegressedFrom), scnFmtPos(r.RegressedTo), r.RegressedAt.Sub(sc.start))
		}
		sc.printf("%s", line)
	}
	return nil
}

func (sc *scenario) cmdState([]string) error {
	st := sc.src.State()
	line := fmt.Sprintf("enabled=%t on=%t clients=%d waiting=%d acked=%s written=%s policy=%s",
		st.Enabled, st.On, st.Clients, st.Waiting, scnFmtPos(st.Acknowledged), scnFmtPos(st.Written), st.Policy)
	if st.Closed {
		line += " closed"
	}
	sc.printf("%s", line)
	return nil
}

func (sc *scenario) cmdTail([]string) error {
	tl := sc.src.Unacknowledged()
	line := fmt.Sprintf("(%s, %s] empty=%t", scnFmtPos(tl.Acknowledged), scnFmtPos(tl.Written), tl.Empty())
	if tl.AtRisk {
		line += fmt.Sprintf(" at-risk=(%s, %s]", scnFmtPos(tl.AtRiskFrom), scnFmtPos(tl.AtRiskTo))
	}
	sc.printf("%s", line)
	return nil
}

func (sc *scenario) cmdEvents([]string) error {
	sc.mu.Lock()
	evs := sc.events
	sc.events = nil
	sc.mu.Unlock()
	if len(evs) == 0 {
		sc.printf("(none)")
	}
	for _, e := range evs {
		sc.printf("+%s %s", e.Time.Sub(sc.start), e)
	}
	return nil
}

// scnPos parses a script position: a bare offset in binlog.000001, file:offset,
// or "none" for the zero Position.
func scnPos(s string) (semisync.Position, error) {
	if s == "none" {
		return semisync.Position{}, nil
	}
	if off, err := strconv.ParseUint(s, 10, 64); err == nil {
		return semisync.FilePos("binlog.000001", off), nil
	}
	if !strings.Contains(s, ":") {
		return semisync.Position{}, fmt.Errorf("bad position %q: want an offset, file:offset or none", s)
	}
	return semisync.ParsePosition(s)
}

// scnFmtPos renders a position as scripts write it.
func scnFmtPos(p semisync.Position) string {
	switch {
	case p.IsZero():
		return "none"
	case p.File() == "binlog.000001":
		return strconv.FormatUint(p.Offset(), 10)
	}
	return p.String()
}

// scnReplicaID reads the replica ID of a session name: r3 and r3.b are
// sessions of replica 3.
func scnReplicaID(name string) (semisync.ReplicaID, error) {
	digits, _, _ := strings.Cut(strings.TrimPrefix(name, "r"), ".")
	n, err := strconv.ParseUint(digits, 10, 32)
	if !strings.HasPrefix(name, "r") || err != nil {
		return 0, fmt.Errorf("bad session name %q: want rN or rN.suffix", name)
	}
	return semisync.ReplicaID(n), nil
}

// scnPolicy parses count:N, any:N:ID,ID... or first:N:ID,ID...
func scnPolicy(s string) (ackset.Policy, error) {
	parts := strings.Split(s, ":")
	if len(parts) < 2 {
		return ackset.Policy{}, fmt.Errorf("bad policy %q", s)
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil {
		return ackset.Policy{}, fmt.Errorf("bad policy %q: %v", s, err)
	}
	var ids []semisync.ReplicaID
	if len(parts) == 3 {
		for _, f := range strings.Split(parts[2], ",") {
			id, err := strconv.ParseUint(f, 10, 32)
			if err != nil {
				return ackset.Policy{}, fmt.Errorf("bad policy %q: %v", s, err)
			}
			ids = append(ids, semisync.ReplicaID(id))
		}
	}
	switch {
	case parts[0] == "count" && len(parts) == 2:
		return ackset.Count(n), nil
	case parts[0] == "any" && len(parts) == 3:
		return ackset.AnyOf(n, ids...), nil
	case parts[0] == "first" && len(parts) == 3:
		return ackset.FirstOf(n, ids...), nil
	}
	return ackset.Policy{}, fmt.Errorf("bad policy %q: want count:N, any:N:IDS or first:N:IDS", s)
}

// The tests below run inline scripts through the scenario interpreter. Each
// is a regression test for a defect found while writing the scenarios.

// TestNoStallReportAfterSwitchOff: when one wait times out at the moment
// another wait's stall report falls due, the timeout releases every waiter,
// so no stall may be reported (it once was, with Waiters = 0).
func TestNoStallReportAfterSwitchOff(t *testing.T) {
	got := runScenario(t, "inline", `
new stall=1s
appended 4
register r1 4
enable
set rpl_semi_sync_source_timeout = 1000
write 100
wait w1 100
set rpl_semi_sync_source_timeout = 5000
write 200
wait w2 200
tick 1s
events
`)
	require.Contains(t, got, "+1s switched-off reason=timeout")
	require.NotContains(t, got, "wait-stalled waiters=0")
}

// TestSkipAfterUnflaggedEventCounts: a skipped event waits only for the
// acknowledgements the replica owes (events sent with the flag), not for
// events sent without it, which are never acknowledged. MySQL would flag 200
// here (a group end at wait_pos) and count the skip at once (spec §7.2); the
// second case is a reconnect after an unflagged event header (B18,
// MDEV-38486). A skip once waited for every sent event and the commit timed
// out.
func TestSkipAfterUnflaggedEventCounts(t *testing.T) {
	for name, script := range map[string]string{
		"group end below wait_pos": `
new
appended 4
register r1 4
enable
write 100 200
wait w1 200
flag r1 100
skip r1 200
`,
		"event header after a reconnect": `
new
appended 4
register r1 4
enable
write 500
wait w1 500
flag r1 126
skip r1 500
`,
	} {
		t.Run(name, func(t *testing.T) {
			got := runScenario(t, name, script+"shutdown\n")
			require.Regexp(t, `skip r1 \d+\n    w1 -> acknowledged`, got)
		})
	}
}

// TestSolicitAckIgnoresNonMembers: under ANY 1 (1) replica 2's
// acknowledgements never count, so SolicitAck must not ask it.
func TestSolicitAckIgnoresNonMembers(t *testing.T) {
	got := runScenario(t, "inline", `
new policy=any:1:1
appended 4
register r1 4
register r2 4
enable
write 100
wait w1 100
tick 2s
solicit r2
solicit r1
shutdown
`)
	require.Contains(t, got, "solicit r2\n    false\nsolicit r1\n    true\n")
}

// TestSupersededSessionNotFlagged: a session superseded by a newer one of
// the same replica ID has its ACKs ignored, so its events must not ask for
// one (nor count in net_waits).
func TestSupersededSessionNotFlagged(t *testing.T) {
	got := runScenario(t, "inline", `
new
appended 4
register r1 4
enable
write 100
register r1.b 4
flag r1 100
status net_waits
`)
	require.Contains(t, got, "flag r1 100\n    false\nstatus net_waits\n    net_waits=0\n")
}

// TestSkipNotDeferredAfterResetMaster: ResetMaster forgets every position,
// including what a session was sent with the flag, so a skip in the new
// binlog does not wait for an ACK beyond the old binlog's positions.
func TestSkipNotDeferredAfterResetMaster(t *testing.T) {
	got := runScenario(t, "inline", `
new
appended 4
register r1 4
enable
write 900
flag r1 900
ack r1 900
reset
write 150
wait w1 150
skip r1 150
shutdown
`)
	require.Contains(t, got, "skip r1 150\n    w1 -> acknowledged")
}
