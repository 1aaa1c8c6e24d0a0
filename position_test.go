package semisync_test

import (
	"cmp"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/semisync-go/semisync"
)

func TestPositionOrder(t *testing.T) {
	// Each position is strictly before the next.
	ordered := []semisync.Position{
		{},
		semisync.LSN(1),
		semisync.LSN(1 << 63),
		semisync.FilePos("binlog.", 0),
		semisync.FilePos("binlog.0", 0),
		semisync.FilePos("binlog.000001", 4),
		semisync.FilePos("binlog.000001", 5),
		semisync.FilePos("binlog.000002", 4),
		semisync.FilePos("binlog.999999", 1<<40),
		semisync.FilePos("binlog.1000000", 4),
		semisync.FilePos("binlog.99999999999999999999", 4), // beyond uint64
		semisync.FilePos("binlog.100000000000000000000", 4),
		semisync.FilePos("binlog.99999999999999999999999", 4),
		semisync.FilePos("mysql-bin.000001", 4),
	}
	for i := range ordered {
		for j := range ordered {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			require.Equal(t, want, ordered[i].Compare(ordered[j]), "%v vs %v", ordered[i], ordered[j])
			require.Equal(t, want < 0, ordered[i].Less(ordered[j]))
		}
	}
}

func TestPositionCompareBytewiseIsMySQLOrder(t *testing.T) {
	a := semisync.FilePos("binlog.999999", 100)
	b := semisync.FilePos("binlog.1000000", 4)
	require.Equal(t, -1, a.Compare(b), "by index, the rollover file comes later")
	require.Equal(t, 1, a.CompareBytewise(b), "MySQL's strcmp puts it earlier (spec §4.2)")
	require.Equal(t, -1, semisync.FilePos("binlog.000001", 9).CompareBytewise(semisync.FilePos("binlog.000001", 10)))
}

func TestPositionAccessors(t *testing.T) {
	p := semisync.FilePos("binlog.000123", 456)
	require.Equal(t, "binlog.000123", p.File())
	require.Equal(t, uint64(456), p.Offset())
	idx, ok := p.FileIndex()
	require.True(t, ok)
	require.Equal(t, uint64(123), idx)
	require.False(t, p.IsLSN())
	require.False(t, p.IsZero())

	_, ok = semisync.FilePos("relay", 4).FileIndex()
	require.False(t, ok)
	require.True(t, semisync.LSN(7).IsLSN())
	require.True(t, semisync.LSN(0).IsZero())
	require.Equal(t, semisync.Position{}, semisync.FilePos("", 0))
	require.Equal(t, p, semisync.Max(p, semisync.FilePos("binlog.000123", 4)))
	require.Equal(t, p, semisync.Max(semisync.LSN(9), p))
}

func TestParsePosition(t *testing.T) {
	good := []struct {
		in   string
		want semisync.Position
	}{
		{"binlog.000001:4", semisync.FilePos("binlog.000001", 4)},
		{"a:b:c:18446744073709551615", semisync.FilePos("a:b:c", 1<<64-1)},
		{"12345", semisync.LSN(12345)},
		{"0", semisync.Position{}},
		{"123:5", semisync.FilePos("123", 5)},
		{strings.Repeat("x", semisync.MaxFileNameLen) + ":1", semisync.FilePos(strings.Repeat("x", semisync.MaxFileNameLen), 1)},
	}
	for _, tc := range good {
		t.Run(tc.in, func(t *testing.T) {
			got, err := semisync.ParsePosition(tc.in)
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.in, got.String())
		})
	}
	bad := []struct{ in, msg string }{
		{"", "want file:offset"},
		{":4", "empty file name"},
		{"binlog.000001:", "want file:offset"},
		{"binlog.000001:-4", "want file:offset"},
		{"binlog.000001:+4", "want file:offset"},
		{"binlog.000001:0x10", "not a decimal"},
		{"binlog.000001: 4", "not a decimal"},
		{"18446744073709551616", "overflows"},
		{"bin\x00log:4", "NUL"},
		{strings.Repeat("x", semisync.MaxFileNameLen+1) + ":1", "longer than 511"},
	}
	for _, tc := range bad {
		t.Run("bad/"+tc.in, func(t *testing.T) {
			_, err := semisync.ParsePosition(tc.in)
			require.ErrorIs(t, err, semisync.ErrInvalidPosition)
			require.ErrorContains(t, err, tc.msg)
		})
	}
}

func TestPositionText(t *testing.T) {
	p := semisync.FilePos("binlog.000009", 77)
	b, err := p.MarshalText()
	require.NoError(t, err)
	var q semisync.Position
	require.NoError(t, q.UnmarshalText(b))
	require.Equal(t, p, q)

	for _, bad := range []semisync.Position{
		semisync.FilePos(strings.Repeat("x", semisync.MaxFileNameLen+1), 4),
		semisync.FilePos("bin\x00log", 4),
	} {
		_, err := bad.MarshalText()
		require.ErrorIs(t, err, semisync.ErrInvalidPosition, "MarshalText must not write what UnmarshalText rejects")
	}

	err = q.UnmarshalText([]byte("nope:x"))
	require.True(t, errors.Is(err, semisync.ErrInvalidPosition))
	require.Equal(t, p, q, "a failed UnmarshalText leaves the value alone")
}

func TestPositionCompareDoesNotAllocate(t *testing.T) {
	a := semisync.FilePos("binlog.000001", 4)
	b := semisync.FilePos("binlog.000002", 4)
	var sink int
	allocs := testing.AllocsPerRun(1000, func() { sink += a.Compare(b) + b.Compare(a) + a.Compare(a) })
	require.Zero(t, allocs)
	require.Equal(t, 0, sink)
}

func genPosition() *rapid.Generator[semisync.Position] {
	return rapid.Custom(func(t *rapid.T) semisync.Position {
		off := rapid.Uint64Range(0, 50).Draw(t, "off")
		if rapid.Bool().Draw(t, "lsn") {
			return semisync.LSN(off)
		}
		stem := rapid.SampledFrom([]string{"binlog.", "mysql-bin.", "x", ""}).Draw(t, "stem")
		digits := rapid.StringMatching(`[0-9]{0,8}`).Draw(t, "digits")
		if stem == "" && digits == "" {
			digits = "1"
		}
		return semisync.FilePos(stem+digits, off)
	})
}

// Compare must be a total order that agrees with ==, and String/Parse must
// round-trip.
func TestPositionTotalOrderProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a, b, c := genPosition().Draw(t, "a"), genPosition().Draw(t, "b"), genPosition().Draw(t, "c")
		if (a.Compare(b) == 0) != (a == b) {
			t.Fatalf("Compare(%v, %v) = %d but == is %v", a, b, a.Compare(b), a == b)
		}
		if a.Compare(b) != -b.Compare(a) {
			t.Fatalf("antisymmetry broken for %v, %v", a, b)
		}
		if a.Compare(b) <= 0 && b.Compare(c) <= 0 && a.Compare(c) > 0 {
			t.Fatalf("transitivity broken: %v <= %v <= %v but not %v <= %v", a, b, c, a, c)
		}
		back, err := semisync.ParsePosition(a.String())
		if err != nil || back != a {
			t.Fatalf("round trip of %v gave %v, %v", a, back, err)
		}
	})
}

// File indexes order numerically whatever their width and zero padding.
func TestPositionIndexOrderProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		stem := rapid.SampledFrom([]string{"binlog.", "mysql-bin.", "x", ""}).Draw(t, "stem")
		m := rapid.Uint64().Draw(t, "m")
		n := rapid.Uint64().Draw(t, "n")
		pm := strings.Repeat("0", rapid.IntRange(0, 7).Draw(t, "padm"))
		pn := strings.Repeat("0", rapid.IntRange(0, 7).Draw(t, "padn"))
		a := semisync.FilePos(stem+pm+strconv.FormatUint(m, 10), 9)
		b := semisync.FilePos(stem+pn+strconv.FormatUint(n, 10), 4)
		want := cmp.Compare(m, n)
		if want == 0 {
			return // same index, different padding: ordered byte-wise
		}
		if got := a.Compare(b); got != want {
			t.Fatalf("%v vs %v: Compare = %d, want %d", a, b, got, want)
		}
	})
}

func FuzzParsePosition(f *testing.F) {
	for _, s := range []string{"binlog.000001:4", "42", ":", "a:b:1", "x:18446744073709551615"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := semisync.ParsePosition(s)
		if err != nil {
			if !errors.Is(err, semisync.ErrInvalidPosition) {
				t.Fatalf("error %v does not wrap ErrInvalidPosition", err)
			}
			return
		}
		q, err := semisync.ParsePosition(p.String())
		if err != nil || q != p {
			t.Fatalf("%q parsed to %v which reparses to %v, %v", s, p, q, err)
		}
	})
}
