package mysqlmodel

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/semisync-go/semisync"
)

// The PR #509 reproduction: wait count 3, A acks 100, B 50, C 200. Only 50
// is held by all three; the buggy container reports 100, the fixed one 50.
func TestAckContainerPR509(t *testing.T) {
	at := func(off uint64) semisync.Position { return semisync.FilePos("binlog.000001", off) }
	for _, fixed := range []bool{false, true} {
		c := NewAckContainer(3, fixed)
		_, ok := c.Insert(1, at(100))
		require.False(t, ok)
		_, ok = c.Insert(2, at(50))
		require.False(t, ok)
		got, ok := c.Insert(3, at(200))
		require.True(t, ok)
		want := at(100)
		if fixed {
			want = at(50)
		}
		require.Equal(t, want, got, "fixed %v", fixed)
		_, ok = c.Insert(2, at(40))
		require.False(t, ok, "at or below what was reported: dropped")
	}
	// Wait count 1: every new position is reported at once.
	c := NewAckContainer(1, false)
	got, ok := c.Insert(1, at(10))
	require.True(t, ok)
	require.Equal(t, at(10), got)
}
