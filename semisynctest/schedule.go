package semisynctest

import (
	"bufio"
	"fmt"
	"strconv"
	"strings"
	"time"

	"pgregory.net/rapid"
)

// Op is what one step of a schedule does.
type Op uint8

// The steps of a schedule.
const (
	// Commit writes the next transaction to the source's binlog and begins
	// its commit wait.
	Commit Op = iota + 1
	// Advance runs the cluster for Step.D of simulated time: messages are
	// delivered, relay logs flushed and synced, ACKs received, timeouts
	// fired.
	Advance
	// Crash takes replica Step.Replica down as a power failure does: what
	// its relay log had not synced is lost (a prefix of it may survive).
	Crash
	// Restart brings a crashed replica back; it reconnects from the end of
	// its relay log.
	Restart
	// Partition cuts the links between the source and replica Step.Replica
	// (its connection breaks); Heal joins them again.
	Partition
	// Heal joins a partitioned replica's links again.
	Heal
	// Set runs SET GLOBAL Step.Stmt on the source's variables.
	Set
	// CrashSource crashes the source's host and starts it again: its
	// binlog keeps what it had fsynced and goes on in a new file; the
	// waiting commits lose their client; replicas reconnect.
	CrashSource
	// Failover loses the source's host for good and promotes the replica
	// holding the most: its relay log becomes the binlog, the others
	// replicate from it. Once per run (semisync's promise covers the
	// loss of one source), and at least one replica must remain; a
	// failover beyond that does nothing.
	Failover
)

var opNames = [...]string{Commit: "commit", Advance: "advance", Crash: "crash", Restart: "restart", Partition: "partition", Heal: "heal", Set: "set", CrashSource: "crash-source", Failover: "failover"}

// Step is one step of a schedule.
type Step struct {
	Op      Op
	D       time.Duration // Advance
	Replica int           // Crash, Restart, Partition, Heal: 0 to Replicas-1
	Stmt    string        // Set: the assignment after SET GLOBAL
}

// String writes the step as a line of a scenario file.
func (s Step) String() string {
	switch s.Op {
	case Advance:
		return "advance " + s.D.String()
	case Crash, Restart, Partition, Heal:
		return opNames[s.Op] + " " + strconv.Itoa(s.Replica)
	case Set:
		return "set " + s.Stmt
	case Commit, CrashSource, Failover:
		return opNames[s.Op]
	}
	return fmt.Sprintf("Op(%d)", s.Op)
}

// Schedule is what a simulation run does, step by step. Its text form
// (String, ParseSchedule) is a scenario file: one step a line, # comments.
type Schedule []Step

// String writes the schedule one step a line.
func (sc Schedule) String() string {
	var b strings.Builder
	for _, s := range sc {
		b.WriteString(s.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// ParseSchedule reads a schedule in the form String writes; blank lines
// and lines starting with # are skipped.
func ParseSchedule(text string) (Schedule, error) {
	var out Schedule
	sc := bufio.NewScanner(strings.NewReader(text))
	for line := 1; sc.Scan(); line++ {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' {
			continue
		}
		word, arg, _ := strings.Cut(l, " ")
		arg = strings.TrimSpace(arg)
		st := Step{}
		for op, name := range opNames {
			if name != "" && name == word {
				st.Op = Op(op)
			}
		}
		var err error
		switch st.Op {
		case Commit, CrashSource, Failover:
			if arg != "" {
				err = fmt.Errorf("%s takes no argument", word)
			}
		case Advance:
			st.D, err = time.ParseDuration(arg)
			if err == nil && st.D < 0 {
				err = fmt.Errorf("negative duration")
			}
		case Crash, Restart, Partition, Heal:
			st.Replica, err = strconv.Atoi(arg)
			if err == nil && st.Replica < 0 {
				err = fmt.Errorf("negative replica")
			}
		case Set:
			st.Stmt = arg
			if arg == "" {
				err = fmt.Errorf("set needs an assignment")
			}
		default:
			err = fmt.Errorf("unknown step %q", word)
		}
		if err != nil {
			return nil, fmt.Errorf("semisynctest: schedule line %d: %q: %w", line, l, err)
		}
		out = append(out, st)
	}
	return out, sc.Err()
}

// Schedules generates schedules for a cluster of cfg's replicas (with
// rapid: a failing schedule shrinks to a short one): commits, time
// passing, replica crashes and restarts, partitions and heals, and
// changes of the source's variables (wait count within the replicas,
// timeout, wait_no_replica, wait point, enabled) in the names of cfg's
// flavor.
func Schedules(cfg Config) *rapid.Generator[Schedule] {
	cfg = cfg.withDefaults()
	names := cfg.varNames()
	return rapid.Custom(func(t *rapid.T) Schedule {
		n := rapid.IntRange(1, cfg.MaxSteps).Draw(t, "steps")
		sc := make(Schedule, 0, n)
		for i := range n {
			kind := rapid.IntRange(0, 99).Draw(t, fmt.Sprintf("kind%d", i))
			var st Step
			switch {
			case kind < 45:
				st = Step{Op: Commit}
			case kind < 75:
				st = Step{Op: Advance, D: time.Duration(rapid.IntRange(1, 2000).Draw(t, fmt.Sprintf("ms%d", i))) * time.Millisecond}
			case kind < 83:
				st = Step{Op: Crash, Replica: rapid.IntRange(0, cfg.Replicas-1).Draw(t, fmt.Sprintf("r%d", i))}
			case kind < 89:
				st = Step{Op: Restart, Replica: rapid.IntRange(0, cfg.Replicas-1).Draw(t, fmt.Sprintf("r%d", i))}
			case kind < 93:
				st = Step{Op: Partition, Replica: rapid.IntRange(0, cfg.Replicas-1).Draw(t, fmt.Sprintf("r%d", i))}
			case kind < 95:
				st = Step{Op: Heal, Replica: rapid.IntRange(0, cfg.Replicas-1).Draw(t, fmt.Sprintf("r%d", i))}
			case kind < 96:
				st = Step{Op: CrashSource}
			case kind < 97 && cfg.Policy == nil: // a policy may name the replica promoted
				st = Step{Op: Failover}
			default:
				var stmt string
				first := 0
				if names.count == "" {
					first = 1
				}
				switch rapid.IntRange(first, 4).Draw(t, fmt.Sprintf("var%d", i)) {
				case 0:
					stmt = fmt.Sprintf("%s = %d", names.count, rapid.IntRange(1, cfg.Replicas).Draw(t, fmt.Sprintf("count%d", i)))
				case 1:
					stmt = fmt.Sprintf("%s = %d", names.timeout, rapid.IntRange(50, 3000).Draw(t, fmt.Sprintf("timeout%d", i)))
				case 2:
					stmt = fmt.Sprintf("%s = %s", names.noReplica, onOff(rapid.Bool().Draw(t, fmt.Sprintf("wnr%d", i))))
				case 3:
					wp := "AFTER_SYNC"
					if rapid.Bool().Draw(t, fmt.Sprintf("wp%d", i)) {
						wp = "AFTER_COMMIT"
					}
					stmt = fmt.Sprintf("%s = %s", names.waitPoint, wp)
				default:
					stmt = fmt.Sprintf("%s = %s", names.enabled, onOff(rapid.Bool().Draw(t, fmt.Sprintf("en%d", i))))
				}
				st = Step{Op: Set, Stmt: stmt}
			}
			sc = append(sc, st)
		}
		return sc
	})
}

func onOff(b bool) string {
	if b {
		return "ON"
	}
	return "OFF"
}
