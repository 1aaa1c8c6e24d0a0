package deadline

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Lazy moves the deadline at most once per Timeout/8, and always to
// Timeout after the time it moved it.
func TestLazyMove(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var set []time.Time
	record := func(d time.Time) error { set = append(set, d); return nil }
	d := Lazy{Timeout: 8 * time.Second}
	d.Move(t0, record)
	d.Move(t0.Add(time.Second), record)           // within Timeout/8: no move
	d.Move(t0.Add(1001*time.Millisecond), record) // past it
	require.Equal(t, []time.Time{t0.Add(8 * time.Second), t0.Add(9001 * time.Millisecond)}, set)
}
