//go:build !race

package replica_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// The per-event path allocates nothing in steady state: Unwrap and Queue
// alias the packet, Flush reuses the ACK buffer. (The race detector adds
// allocations of its own, hence the build tag.)
func TestNoAllocations(t *testing.T) {
	tests := []struct {
		name string
		step func(x *benchStream, t *testing.T)
	}{
		{"flagged event", func(x *benchStream, t *testing.T) { x.one(t) }},
		{"batch", func(x *benchStream, t *testing.T) { x.batch(t, false) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			x := newBenchStream(t)
			tt.step(x, t) // warm up: the ACK buffer grows once
			require.Zero(t, testing.AllocsPerRun(200, func() { tt.step(x, t) }))
		})
	}
}
