package semisynctest

import (
	"fmt"
	"time"
)

// Failure is a schedule on which a checker failed: what to replay.
type Failure struct {
	Seed     uint64
	Schedule Schedule
	Err      error
	History  *History
}

// Error says what failed and how to replay it.
func (f *Failure) Error() string {
	return fmt.Sprintf("%v\nseed %d, schedule (%d steps; save it under testdata/ and replay it with Replay):\n%s", f.Err, f.Seed, len(f.Schedule), f.Schedule)
}

// Explore runs n schedules of cfg (the i-th drawn from Schedules(cfg) with
// seed i, and run with seed i) and checks each history with checkers (All
// if none). It returns nil if every one holds, or the first failure,
// shrunk: steps are removed, and time steps shortened, for as long as the
// same checker still fails, so what it returns is a short story.
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
			return shrink(cfg, seed, sc, checkers), nil
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

// shrink removes steps and shortens time steps while the run still fails.
func shrink(cfg Config, seed uint64, sc Schedule, checkers []Checker) *Failure {
	fails := func(sc Schedule) (*History, error) {
		h, err := Run(cfg, seed, sc)
		if err != nil {
			return nil, nil // a schedule that cannot run does not count
		}
		return h, h.Check(checkers...)
	}
	h, err := fails(sc)
	for changed := true; changed; {
		changed = false
		// Drop chunks of steps, halving the chunk.
		for size := len(sc) / 2; size >= 1; size /= 2 {
			for at := 0; at+size <= len(sc); {
				try := append(append(Schedule(nil), sc[:at]...), sc[at+size:]...)
				if h2, err2 := fails(try); err2 != nil {
					sc, h, err, changed = try, h2, err2, true
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
				if d >= sc[i].D || d <= 0 {
					continue
				}
				try := append(Schedule(nil), sc...)
				try[i].D = d.Round(time.Millisecond)
				if h2, err2 := fails(try); err2 != nil {
					sc, h, err, changed = try, h2, err2, true
					break
				}
			}
		}
	}
	return &Failure{Seed: seed, Schedule: sc, Err: err, History: h}
}
