package status_test

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/semisync-go/semisync/status"
)

// overflowFrom is the smallest duration that lands in the last bucket.
const overflowFrom = time.Duration(1) << 42

func TestBucketBounds(t *testing.T) {
	require.Equal(t, 321, status.NumBuckets)
	tests := []struct {
		i    int
		want time.Duration
	}{
		{-1, 0},
		{0, 0},
		{7, 7},
		{8, 8},
		{15, 15},
		{16, 17}, // [16, 17]: from 16 on, buckets are 1/8 of a power of two wide
		{23, 31},
		{24, 35},
		{status.NumBuckets - 2, overflowFrom - 1},
		{status.NumBuckets - 1, math.MaxInt64},
		{status.NumBuckets, math.MaxInt64},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, status.BucketBound(tt.i), "bucket %d", tt.i)
	}
	for i := 1; i < status.NumBuckets; i++ {
		require.Greater(t, status.BucketBound(i), status.BucketBound(i-1), "bounds must increase")
	}
	require.Greater(t, status.BucketBound(status.NumBuckets-2), time.Hour, "finite buckets must reach an hour")
}

func TestHistogramBasics(t *testing.T) {
	var h status.Histogram
	empty := h.Snapshot()
	require.Zero(t, empty.Quantile(0.5))
	require.Zero(t, empty.Mean())
	require.Zero(t, empty.Max)

	for _, d := range []time.Duration{-5, 0, 3, 100, time.Millisecond, 2 * time.Hour} {
		h.Record(d)
	}
	s := h.Snapshot()
	require.Equal(t, uint64(6), s.Count)
	require.Equal(t, 2*time.Hour, s.Max)
	require.Equal(t, 3+100+time.Millisecond+2*time.Hour, s.Sum, "negative samples count as 0")
	require.Equal(t, s.Sum/6, s.Mean())
	require.Equal(t, time.Duration(0), s.Quantile(0), "q=0 is the smallest sample's bucket")
	require.Equal(t, time.Duration(0), s.Quantile(math.NaN()))
	require.Equal(t, 2*time.Hour, s.Quantile(1), "the top is capped at Max")
	require.Equal(t, 2*time.Hour, s.Quantile(7), "q above 1 is clamped")
	require.Equal(t, time.Duration(3), s.Quantile(0.5), "small values are exact")
	require.Equal(t, s.Quantile(0.5), s.P50())
	require.Equal(t, s.Quantile(0.9), s.P90())
	require.Equal(t, s.Quantile(0.99), s.P99())

	var n uint64
	var bounds []time.Duration
	for bound, c := range s.Buckets() {
		bounds = append(bounds, bound)
		n += c
	}
	require.Equal(t, s.Count, n)
	require.True(t, slices.IsSorted(bounds))
	require.Len(t, bounds, 5, "0 and -5 share bucket 0")
	require.Equal(t, time.Duration(math.MaxInt64), bounds[4], "2h is in the last bucket")

	for range s.Buckets() {
		break // stopping early must be allowed
	}
}

// sampleGen draws durations spread over every scale: mostly below the
// overflow bucket, sometimes above it, sometimes negative.
var sampleGen = rapid.Custom(func(t *rapid.T) time.Duration {
	switch rapid.IntRange(0, 19).Draw(t, "kind") {
	case 0:
		return -time.Duration(rapid.Int64Range(1, 1000).Draw(t, "neg"))
	case 1:
		return overflowFrom + time.Duration(rapid.Int64Range(0, 1<<44).Draw(t, "huge"))
	}
	e := rapid.IntRange(0, 41).Draw(t, "exp")
	return time.Duration(rapid.Int64Range(0, 1<<(e+1)-1).Draw(t, "v"))
})

// TestQuantileMatchesSortedReference checks Quantile against the exact
// q-quantile of the sorted samples: never below it, at most one bucket's
// relative width (1/8) above it, and exactly Max in the last bucket.
func TestQuantileMatchesSortedReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		samples := rapid.SliceOfN(sampleGen, 1, 400).Draw(t, "samples")
		q := rapid.Float64Range(0, 1).Draw(t, "q")

		var h status.Histogram
		sorted := make([]time.Duration, len(samples))
		for i, d := range samples {
			h.Record(d)
			sorted[i] = max(d, 0)
		}
		slices.Sort(sorted)
		s := h.Snapshot()
		if s.Count != uint64(len(samples)) || s.Max != sorted[len(sorted)-1] {
			t.Fatalf("count %d max %v; want %d and %v", s.Count, s.Max, len(samples), sorted[len(sorted)-1])
		}

		rank := max(int(math.Ceil(q*float64(len(sorted)))), 1)
		ref := sorted[rank-1]
		got := s.Quantile(q)
		switch {
		case got < ref:
			t.Fatalf("Quantile(%v) = %v below the true %v", q, got, ref)
		case got > s.Max:
			t.Fatalf("Quantile(%v) = %v above Max %v", q, got, s.Max)
		case ref >= overflowFrom && got != s.Max:
			t.Fatalf("Quantile(%v) = %v; want Max %v for a sample in the last bucket", q, got, s.Max)
		case ref < overflowFrom && got-ref > ref/8:
			t.Fatalf("Quantile(%v) = %v; true %v, more than 1/8 off", q, got, ref)
		}
	})
}

func TestHistogramConcurrentRecord(t *testing.T) {
	const goroutines, each = 4, 2000
	var h status.Histogram
	done := make(chan struct{})
	for g := range goroutines {
		go func() {
			for i := range each {
				h.Record(time.Duration(g*each + i))
			}
			done <- struct{}{}
		}()
	}
	for range goroutines {
		s := h.Snapshot()
		require.LessOrEqual(t, s.Count, uint64(goroutines*each))
		<-done
	}
	s := h.Snapshot()
	n := uint64(goroutines * each)
	require.Equal(t, n, s.Count)
	require.Equal(t, time.Duration(n-1), s.Max)
	require.Equal(t, time.Duration(n*(n-1)/2), s.Sum)
}
