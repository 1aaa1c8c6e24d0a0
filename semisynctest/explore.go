package semisynctest

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

// Failure is a schedule on which a checker failed: what to replay.
type Failure struct {
	// Seed and Schedule reproduce it (Run, Replay).
	Seed     uint64
	Schedule Schedule
	// Err is what the checker said.
	Err error
	// History is the failing run's, traced.
	History *History
}

// Error says what failed and how to replay it.
func (f *Failure) Error() string {
	return fmt.Sprintf("%v\nscenario (save it as a file under testdata/ and replay it with ReplayFile):\n%s", f.Err, f.Scenario())
}

// Scenario is the failure as a scenario file: its seed on a comment line,
// then the schedule.
func (f *Failure) Scenario() string {
	return fmt.Sprintf("# seed %d\n%s", f.Seed, f.Schedule)
}

// ReplayFile runs a scenario file (a schedule, with its seed on a "# seed
// N" line; 0 without one) and checks it with checkers (All if none).
func ReplayFile(cfg Config, path string, checkers ...Checker) (*History, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var seed uint64
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "# seed "); ok {
			if seed, err = strconv.ParseUint(strings.TrimSpace(v), 10, 64); err != nil {
				return nil, fmt.Errorf("semisynctest: %s: seed %q: %w", path, v, err)
			}
		}
	}
	sc, err := ParseSchedule(string(b))
	if err != nil {
		return nil, fmt.Errorf("semisynctest: %s: %w", path, err)
	}
	return Replay(cfg, seed, sc, checkers...)
}

// Explore runs n schedules of cfg (the i-th drawn from Schedules(cfg) with
// seed i, and run with seed i) and checks each history with checkers (All
// if none). It returns nil if every one holds, or the first failure,
// shrunk: steps are removed, and time steps shortened, for as long as the
// first checker that failed still fails, so what it returns is a short
// story.
// It is deterministic: the same arguments give the same result.
func Explore(cfg Config, n int, checkers ...Checker) (*Failure, error) {
	gen := Schedules(cfg)
	for i := range n {
		sc := gen.Example(i)
		seed := uint64(i)
		h, err := Run(cfg, seed, sc)
		if err != nil {
			return nil, err
		}
		if err := h.Check(checkers...); err != nil {
			// Shrink keeping the first checker that failed failing.
			if len(checkers) == 0 {
				checkers = All
			}
			for _, c := range checkers {
				if c(h) != nil {
					return shrink(cfg, seed, sc, []Checker{c}), nil
				}
			}
		}
	}
	return nil, nil
}

// Replay runs a saved schedule with its seed and checks it.
func Replay(cfg Config, seed uint64, sc Schedule, checkers ...Checker) (*History, error) {
	h, err := Run(cfg, seed, sc)
	if err != nil {
		return nil, err
	}
	return h, h.Check(checkers...)
}

// shrinkSeeds is how many other seeds shrinking tries for a shorter
// schedule that still fails.
const shrinkSeeds = 16

// shrink removes steps and shortens time steps while the run still fails
// (with its seed, or with one of the first shrinkSeeds seeds: a shorter
// schedule draws other random numbers).
func shrink(cfg Config, seed uint64, sc Schedule, checkers []Checker) *Failure {
	fails := func(sc Schedule) (uint64, *History, error) {
		for i := -1; i < shrinkSeeds; i++ {
			s := seed
			if i >= 0 {
				s = uint64(i)
			}
			h, err := Run(cfg, s, sc)
			if err != nil {
				return 0, nil, nil // a schedule that cannot run does not count
			}
			if err := h.Check(checkers...); err != nil {
				return s, h, err
			}
		}
		return 0, nil, nil
	}
	h, err := Run(cfg, seed, sc)
	if err == nil {
		err = h.Check(checkers...)
	}
	for changed := true; changed; {
		changed = false
		// Drop chunks of steps, halving the chunk.
		for size := len(sc) / 2; size >= 1; size /= 2 {
			for at := 0; at+size <= len(sc); {
				try := append(append(Schedule(nil), sc[:at]...), sc[at+size:]...)
				if s2, h2, err2 := fails(try); err2 != nil {
					sc, seed, h, err, changed = try, s2, h2, err2, true
					continue
				}
				at += size
			}
		}
		// Shorten each time step.
		for i := range sc {
			if sc[i].Op != Advance {
				continue
			}
			for _, d := range []time.Duration{time.Millisecond, 10 * time.Millisecond, 100 * time.Millisecond, sc[i].D / 2} {
				if d = d.Round(time.Millisecond); d >= sc[i].D || d <= 0 {
					continue
				}
				try := append(Schedule(nil), sc...)
				try[i].D = d
				if s2, h2, err2 := fails(try); err2 != nil {
					sc, seed, h, err, changed = try, s2, h2, err2, true
					break
				}
			}
		}
	}
	cfg.Trace = true
	if traced, err2 := Run(cfg, seed, sc); err2 == nil {
		h = traced
	}
	return &Failure{Seed: seed, Schedule: sc, Err: err, History: h}
}
