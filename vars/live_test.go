package vars_test

import (
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/vars"
)

// Reading the live values is free: no allocation (spec: hot path).
func TestConfigDoesNotAllocate(t *testing.T) {
	r := newReg(t, semisync.FlavorMySQL)
	var sink vars.Config
	allocs := testing.AllocsPerRun(1000, func() { sink = r.Config() })
	require.Zero(t, allocs)
	allocs = testing.AllocsPerRun(1000, func() { _ = r.Version() })
	require.Zero(t, allocs)
	require.Equal(t, vars.Defaults(semisync.FlavorMySQL), sink)
}

type change struct{ prev, next vars.Config }

func TestOnChange(t *testing.T) {
	r := newReg(t, semisync.FlavorMySQL)
	var got []change
	var versions []uint64
	cancel := r.OnChange(func(prev, next vars.Config) {
		// The new values are visible while fn runs.
		require.Equal(t, next, r.Config())
		versions = append(versions, r.Version())
		got = append(got, change{prev, next})
	})
	var order []string
	cancelA := r.OnChange(func(prev, next vars.Config) { order = append(order, "a") })
	cancelB := r.OnChange(func(prev, next vars.Config) { order = append(order, "b") })
	defer cancelB()

	d := vars.Defaults(semisync.FlavorMySQL)
	require.NoError(t, r.Exec("SET GLOBAL rpl_semi_sync_source_enabled = ON, rpl_semi_sync_source_timeout = 5"))
	c1 := d
	c1.SourceEnabled, c1.TimeoutMillis = true, 5
	// Setting the current values is not a change: no call, no version.
	require.NoError(t, r.Exec("SET GLOBAL rpl_semi_sync_source_enabled = 1, rpl_semi_sync_source_timeout = 5"))
	require.NoError(t, r.Apply())
	require.NoError(t, r.Exec("SET GLOBAL rpl_semi_sync_source_timeout = DEFAULT"))
	c2 := c1
	c2.TimeoutMillis = 10000
	require.Equal(t, []change{{d, c1}, {c1, c2}}, got)
	require.Equal(t, []uint64{1, 2}, versions)
	require.Equal(t, []string{"a", "b", "a", "b"}, order)

	cancelA()
	cancelA() // idempotent
	cancel()
	require.NoError(t, r.Exec("SET GLOBAL rpl_semi_sync_source_timeout = 6"))
	require.Len(t, got, 2, "cancelled")
	require.Equal(t, []string{"a", "b", "a", "b", "b"}, order)
	require.Equal(t, uint64(3), r.Version())

	require.NotPanics(t, func() { r.OnChange(nil)() })
}

// A callback may cancel itself or others, and register new ones, without
// deadlocking; a function cancelled during a change is not called for it.
func TestOnChangeReentrant(t *testing.T) {
	r := newReg(t, semisync.FlavorMySQL)
	var calls []string
	var cancelSelf, cancelLater func()
	cancelSelf = r.OnChange(func(prev, next vars.Config) {
		calls = append(calls, "self")
		cancelSelf()
		cancelLater()
		r.OnChange(func(prev, next vars.Config) { calls = append(calls, "new") })
	})
	cancelLater = r.OnChange(func(prev, next vars.Config) { calls = append(calls, "later") })
	require.NoError(t, r.Exec("SET GLOBAL rpl_semi_sync_source_timeout = 1"))
	require.Equal(t, []string{"self"}, calls)
	require.NoError(t, r.Exec("SET GLOBAL rpl_semi_sync_source_timeout = 2"))
	require.Equal(t, []string{"self", "new"}, calls)
}

// Concurrent readers always see a whole change, never half of one; the
// writers' callbacks see the changes in version order. Run with -race.
func TestConcurrentReadersSeeWholeChanges(t *testing.T) {
	r := newReg(t, semisync.FlavorMySQL)
	const writers, perWriter = 4, 200
	problems := make(chan string, 16)
	report := func(p string) {
		select {
		case problems <- p:
		default:
		}
	}
	var seen []uint64 // appended under the registry's write lock
	r.OnChange(func(prev, next vars.Config) {
		seen = append(seen, r.Version())
		if next.TimeoutMillis != next.SourceTraceLevel {
			report("callback saw a torn change")
		}
	})
	done := make(chan struct{})
	var readers sync.WaitGroup
	for range 4 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			last := uint64(0)
			for {
				select {
				case <-done:
					return
				default:
				}
				c := r.Config()
				if c.TimeoutMillis != c.SourceTraceLevel && c.TimeoutMillis != 10000 {
					report("a reader saw half a change")
				}
				v := r.Version()
				if v < last {
					report("the version went backwards")
				}
				last = v
			}
		}()
	}
	var ws sync.WaitGroup
	for w := range writers {
		ws.Add(1)
		go func() {
			defer ws.Done()
			for i := range perWriter {
				n := strconv.Itoa(w*perWriter + i + 1)
				if err := r.Exec("SET GLOBAL rpl_semi_sync_source_timeout = " + n + ", rpl_semi_sync_source_trace_level = " + n); err != nil {
					report(err.Error())
				}
			}
		}()
	}
	ws.Wait()
	close(done)
	readers.Wait()
	close(problems)
	for p := range problems {
		t.Error(p)
	}
	require.Equal(t, uint64(writers*perWriter), r.Version())
	require.Len(t, seen, writers*perWriter)
	require.IsIncreasing(t, seen)
}

// Property: for every variable of every flavor, a valid value rendered by
// Show parses back to itself through SET, an option file and ApplyRows.
func TestRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		f := rapid.SampledFrom(semisync.Flavors[:]).Draw(t, "flavor")
		r, err := vars.NewRegistry(f)
		require.NoError(t, err)
		vs := r.Vars()
		v := rapid.SampledFrom(vs).Draw(t, "var")
		raw := rapid.Uint64Range(v.Min(), v.Max()).Draw(t, "raw")
		var sqlValue, text string
		switch v.Kind() {
		case vars.KindBool:
			text = map[uint64]string{0: "OFF", 1: "ON"}[raw]
			sqlValue = rapid.SampledFrom([]string{text, "'" + text + "'", strconv.FormatUint(raw, 10)}).Draw(t, "spelling")
		case vars.KindEnum:
			text = v.EnumNames()[raw]
			sqlValue = rapid.SampledFrom([]string{text, "'" + text + "'", strconv.FormatUint(raw, 10)}).Draw(t, "spelling")
		default:
			text = strconv.FormatUint(raw, 10)
			sqlValue = text
		}
		name := v.String()
		require.NoError(t, r.Exec("SET GLOBAL "+name+" = "+sqlValue))
		got, err := r.Get(name)
		require.NoError(t, err)
		require.Equal(t, text, got)

		r2, _ := vars.NewRegistry(f)
		require.NoError(t, r2.ApplyRows(r.Show("%")))
		require.Equal(t, r.Config(), r2.Config())

		r3, _ := vars.NewRegistry(f)
		var file string
		for _, row := range r.Show("%") {
			file += row.Name + " = " + row.Value + "\n"
		}
		require.NoError(t, r3.LoadOptionFile(strings.NewReader("[mysqld]\n"+file), "my.cnf"))
		require.Equal(t, r.Config(), r3.Config())
	})
}
