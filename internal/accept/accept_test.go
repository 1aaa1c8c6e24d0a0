package accept

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTransient(t *testing.T) {
	for _, err := range []error{syscall.EMFILE, fmt.Errorf("accept: %w", syscall.ECONNABORTED), os.ErrDeadlineExceeded} {
		require.True(t, Transient(err), "%v", err)
	}
	for _, err := range []error{errors.New("use of closed network connection"), syscall.EBADF} {
		require.False(t, Transient(err), "%v", err)
	}
}

// The waits double from 5 ms to 1 s and start over after Reset; a closed
// done ends a wait at once.
func TestBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var b Backoff
		var got []time.Duration
		for range 10 {
			t0 := time.Now()
			require.True(t, b.Wait(nil))
			got = append(got, time.Since(t0))
		}
		ms := time.Millisecond
		require.Equal(t, []time.Duration{5 * ms, 10 * ms, 20 * ms, 40 * ms, 80 * ms, 160 * ms, 320 * ms, 640 * ms, time.Second, time.Second}, got)
		b.Reset()
		t0 := time.Now()
		require.True(t, b.Wait(nil))
		require.Equal(t, MinDelay, time.Since(t0))

		done := make(chan struct{})
		close(done)
		t0 = time.Now()
		require.False(t, b.Wait(done))
		require.Zero(t, time.Since(t0))
	})
}
