package status

import (
	"iter"
	"math"
	"math/bits"
	"sync/atomic"
	"time"
)

// Bucket layout: values below 8 ns have a bucket each; above, every power of
// two [2^e, 2^(e+1)) is split into 8 equal sub-buckets, so a bucket is at
// most 1/8 (12.5%) and on average about 9% wider than its lower bound. The
// powers run up to 2^41 ns, so the finite buckets reach 2^42−1 ns (about 73
// minutes, past the one hour a wait can reasonably take); the last bucket
// holds everything longer.
const (
	subBucketBits = 3
	subBuckets    = 1 << subBucketBits
	maxExponent   = 41

	// NumBuckets is the number of buckets of a [Histogram]: 320 finite ones
	// and a last one for everything from 2^42 ns (about 73 minutes) up.
	NumBuckets = (maxExponent-subBucketBits+2)*subBuckets + 1
)

// bucketOf returns the index of the bucket holding v nanoseconds.
func bucketOf(v uint64) int {
	if v < subBuckets {
		return int(v)
	}
	e := bits.Len64(v) - 1
	if e > maxExponent {
		return NumBuckets - 1
	}
	m := int(v>>(e-subBucketBits)) & (subBuckets - 1)
	return (e-subBucketBits+1)*subBuckets + m
}

// BucketBound returns the inclusive upper bound of bucket i: every sample in
// bucket i is at most BucketBound(i), and greater than BucketBound(i-1). The
// last bucket's bound is the largest Duration. It returns 0 for i < 0 and
// the largest Duration for i ≥ NumBuckets.
func BucketBound(i int) time.Duration {
	switch {
	case i < 0:
		return 0
	case i < subBuckets:
		return time.Duration(i)
	case i >= NumBuckets-1:
		return math.MaxInt64
	}
	e := i/subBuckets + subBucketBits - 1
	m := i % subBuckets
	return time.Duration((uint64(subBuckets+m+1) << (e - subBucketBits)) - 1)
}

// Histogram is a lock-free log-scale histogram of durations. The zero value
// is ready to use; a Histogram must not be copied after first use. Record is
// safe for concurrent use, never allocates, and costs a few atomic
// operations.
type Histogram struct {
	counts [NumBuckets]atomic.Uint64
	sum    atomic.Uint64 // nanoseconds
	max    atomic.Int64  // nanoseconds
}

// Record adds one sample. A negative duration counts as 0.
func (h *Histogram) Record(d time.Duration) {
	v := max(int64(d), 0)
	// Max first, then Sum, then the bucket: a snapshot reads them in the
	// opposite order, so every sample it counts is already within its Max.
	for {
		cur := h.max.Load()
		if v <= cur || h.max.CompareAndSwap(cur, v) {
			break
		}
	}
	h.sum.Add(uint64(v))
	h.counts[bucketOf(uint64(v))].Add(1)
}

// HistogramSnapshot is a copy of a [Histogram]. It is a plain value with a
// fixed-size bucket array, so taking one does not allocate.
//
// Count is the sum of the bucket counts read, so quantiles are always
// computed from a self-consistent set. Samples recorded while the snapshot
// was taken may be included in Sum and Max but missing from the buckets;
// Max is never below a counted sample.
type HistogramSnapshot struct {
	// Counts holds the number of samples per bucket; bucket i holds samples
	// in (BucketBound(i-1), BucketBound(i)].
	Counts [NumBuckets]uint64
	// Count is the number of samples: the sum of Counts.
	Count uint64
	// Sum is the total of all samples.
	Sum time.Duration
	// Max is the largest sample.
	Max time.Duration
}

// Snapshot returns a copy of h. It does not allocate.
func (h *Histogram) Snapshot() HistogramSnapshot {
	var s HistogramSnapshot
	h.SnapshotInto(&s)
	return s
}

// SnapshotInto is [Histogram.Snapshot] writing into dst, which avoids
// copying the bucket array twice.
func (h *Histogram) SnapshotInto(dst *HistogramSnapshot) {
	var n uint64
	for i := range h.counts {
		c := h.counts[i].Load()
		dst.Counts[i] = c
		n += c
	}
	dst.Count = n
	dst.Sum = time.Duration(h.sum.Load())
	dst.Max = time.Duration(h.max.Load())
}

// Quantile returns an upper estimate of the q-quantile (0 ≤ q ≤ 1): the
// upper bound of the bucket holding the ⌈q·Count⌉-th smallest sample, capped
// at Max. It overestimates by at most 12.5% for samples below 2^42 ns, and
// returns Max for samples in the last bucket. q is clamped to [0, 1] (NaN
// counts as 0); an empty snapshot returns 0.
func (s *HistogramSnapshot) Quantile(q float64) time.Duration {
	if s.Count == 0 {
		return 0
	}
	if !(q > 0) {
		q = 0
	} else if q > 1 {
		q = 1
	}
	rank := min(max(uint64(math.Ceil(q*float64(s.Count))), 1), s.Count)
	var seen uint64
	for i, c := range s.Counts {
		seen += c
		if seen >= rank {
			return min(BucketBound(i), s.Max)
		}
	}
	return s.Max
}

// P50 returns the median, Quantile(0.5).
func (s *HistogramSnapshot) P50() time.Duration { return s.Quantile(0.5) }

// P90 returns Quantile(0.9).
func (s *HistogramSnapshot) P90() time.Duration { return s.Quantile(0.9) }

// P99 returns Quantile(0.99).
func (s *HistogramSnapshot) P99() time.Duration { return s.Quantile(0.99) }

// Mean returns Sum / Count, or 0 for an empty snapshot.
func (s *HistogramSnapshot) Mean() time.Duration {
	if s.Count == 0 {
		return 0
	}
	return s.Sum / time.Duration(s.Count)
}

// Buckets yields each non-empty bucket's inclusive upper bound and count,
// in increasing order of bound: what an exporter needs for a
// Prometheus-style histogram (accumulate the counts for "le" buckets). For
// every bucket, including empty ones, range over Counts with [BucketBound].
func (s *HistogramSnapshot) Buckets() iter.Seq2[time.Duration, uint64] {
	return func(yield func(time.Duration, uint64) bool) {
		for i, c := range s.Counts {
			if c != 0 && !yield(BucketBound(i), c) {
				return
			}
		}
	}
}
