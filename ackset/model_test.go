package ackset_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/ackset"
)

// model is the dumb reference: it keeps a map of connected replicas and
// recomputes the quorum from scratch by brute force after every operation.
type model struct {
	kind    ackset.Kind
	n, k    int
	members []semisync.ReplicaID
	groups  map[semisync.ReplicaID]string
	pos     map[semisync.ReplicaID]semisync.Position
	quorum  semisync.Position
}

func (m *model) setPolicy(p ackset.Policy) {
	m.kind, m.n, m.k, m.members = p.Kind(), p.N(), p.K(), p.Members()
	m.groups = map[semisync.ReplicaID]string{}
	for _, id := range allIDs {
		if g, ok := p.Group(id); ok {
			m.groups[id] = g
		}
	}
}

// valid mirrors Policy.Validate for the policies genPolicy draws.
func (m *model) valid(p ackset.Policy) bool {
	if p.N() < 1 {
		return false
	}
	switch p.Kind() {
	case ackset.KindAny, ackset.KindFirst:
		return p.N() <= len(p.Members())
	case ackset.KindGroups:
		distinct := map[string]bool{}
		for _, id := range allIDs {
			if g, ok := p.Group(id); ok {
				distinct[g] = true
			}
		}
		return p.K() >= 1 && p.K() <= p.N() && len(distinct) >= p.K()
	}
	return true
}

// satisfies reports whether the set of replicas ids meets the policy.
func (m *model) satisfies(ids []semisync.ReplicaID) bool {
	switch m.kind {
	case ackset.KindAny:
		c := 0
		for _, id := range ids {
			if slices.Contains(m.members, id) {
				c++
			}
		}
		return c >= m.n
	case ackset.KindGroups:
		distinct := map[string]bool{}
		for _, id := range ids {
			if g, ok := m.groups[id]; ok {
				distinct[g] = true
			}
		}
		return len(ids) >= m.n && len(distinct) >= m.k
	}
	return len(ids) >= m.n
}

// raw computes the policy's quorum position without the monotonic floor.
func (m *model) raw() (semisync.Position, bool) {
	switch m.kind {
	case ackset.KindCount:
		// Sort all replica positions, pick the N-th highest.
		var all []semisync.Position
		for _, p := range m.pos {
			all = append(all, p)
		}
		slices.SortFunc(all, func(a, b semisync.Position) int { return b.Compare(a) })
		if len(all) < m.n {
			return semisync.Position{}, false
		}
		return all[m.n-1], true
	case ackset.KindFirst:
		var sync []semisync.Position
		for _, id := range m.members {
			if p, ok := m.pos[id]; ok && len(sync) < m.n {
				sync = append(sync, p)
			}
		}
		if len(sync) < m.n {
			return semisync.Position{}, false
		}
		return slices.MinFunc(sync, semisync.Position.Compare), true
	}
	// Try every connected position as the candidate; keep the highest one
	// whose "at or after" set satisfies the policy.
	var best semisync.Position
	found := false
	for _, cand := range m.pos {
		var ids []semisync.ReplicaID
		for id, p := range m.pos {
			if p.Compare(cand) >= 0 {
				ids = append(ids, id)
			}
		}
		if m.satisfies(ids) && (!found || cand.Compare(best) > 0) {
			best, found = cand, true
		}
	}
	return best, found
}

func (m *model) satisfiable() bool {
	var ids []semisync.ReplicaID
	for id := range m.pos {
		ids = append(ids, id)
	}
	if m.kind == ackset.KindFirst {
		c := 0
		for _, id := range m.members {
			if _, ok := m.pos[id]; ok {
				c++
			}
		}
		return c >= m.n
	}
	return m.satisfies(ids)
}

func (m *model) settle(ack ackset.AckResult) ackset.Update {
	u := ackset.Update{Ack: ack}
	if p, ok := m.raw(); ok && p.Compare(m.quorum) > 0 {
		m.quorum, u.Advanced = p, true
	}
	u.Quorum = m.quorum
	return u
}

var allIDs = []semisync.ReplicaID{1, 2, 3, 4, 5, 6}

// positions come from two binlog files whose index rolls over a digit.
func position(file bool, off uint64) semisync.Position {
	if file {
		return semisync.FilePos("binlog.1000000", off)
	}
	return semisync.FilePos("binlog.999999", off)
}

// driver abstracts where random choices come from, so the same operation
// sequence runs under rapid (which shrinks failures) and a seeded PRNG
// (which runs many more sequences cheaply).
type driver interface {
	intn(n int, label string) int
	fatalf(format string, args ...any)
}

func genPolicy(d driver) ackset.Policy {
	n := 1 + d.intn(4, "n")
	perm := slices.Clone(allIDs)
	for i := len(perm) - 1; i > 0; i-- {
		j := d.intn(i+1, "perm")
		perm[i], perm[j] = perm[j], perm[i]
	}
	members := perm[:d.intn(len(perm)+1, "members")]
	switch d.intn(4, "kind") {
	case 1:
		return ackset.AnyOf(n, members...)
	case 2:
		return ackset.FirstOf(n, members...)
	case 3:
		groups := map[semisync.ReplicaID]string{}
		for _, id := range members {
			groups[id] = []string{"a", "b", "c"}[d.intn(3, "group")]
		}
		return ackset.Spread(n, d.intn(n+1, "k"), groups)
	}
	return ackset.Count(n)
}

func genPos(d driver) semisync.Position {
	return position(d.intn(2, "file") == 1, uint64(d.intn(12, "off")))
}

// runSequence applies steps random operations to a Set and the model and
// fails on the first disagreement.
func runSequence(d driver, steps int) {
	p := genPolicy(d)
	m := &model{pos: map[semisync.ReplicaID]semisync.Position{}}
	for !m.valid(p) {
		p = genPolicy(d)
	}
	m.setPolicy(p)
	s, err := ackset.New(p)
	if err != nil {
		d.fatalf("New(%v): %v", p, err)
	}
	for step := range steps {
		id := allIDs[d.intn(len(allIDs), "id")]
		var got, want ackset.Update
		var what string
		switch op := d.intn(10, "op"); {
		case op < 5:
			pos := genPos(d)
			what = fmt.Sprintf("Ack(%d, %v)", id, pos)
			got = s.Ack(id, pos)
			old, ok := m.pos[id]
			switch c := pos.Compare(old); {
			case !ok:
				want = ackset.Update{Quorum: m.quorum, Ack: ackset.AckUnknownReplica}
			case c == 0:
				want = ackset.Update{Quorum: m.quorum, Ack: ackset.AckDuplicate}
			case c < 0:
				want = ackset.Update{Quorum: m.quorum, Ack: ackset.AckStale}
			default:
				m.pos[id] = pos
				want = m.settle(ackset.AckAccepted)
			}
		case op < 7:
			pos := genPos(d)
			what = fmt.Sprintf("Connect(%d, %v)", id, pos)
			got = s.Connect(id, pos)
			m.pos[id] = pos
			want = m.settle(ackset.AckAccepted)
		case op < 8:
			what = fmt.Sprintf("Disconnect(%d)", id)
			var ok bool
			got, ok = s.Disconnect(id)
			_, wasConnected := m.pos[id]
			if ok != wasConnected {
				d.fatalf("step %d: %s reported connected=%v, model says %v", step, what, ok, wasConnected)
			}
			delete(m.pos, id)
			want = m.settle(ackset.AckNone)
		case op < 9:
			np := genPolicy(d)
			what = fmt.Sprintf("SetPolicy(%v)", np)
			var err error
			got, err = s.SetPolicy(np)
			if (err == nil) != m.valid(np) {
				d.fatalf("step %d: %s: err=%v but model validity=%v", step, what, err, m.valid(np))
			}
			if err == nil {
				m.setPolicy(np)
				want = m.settle(ackset.AckNone)
			} else {
				want = ackset.Update{Quorum: m.quorum}
			}
		default:
			what = "Reset()"
			s.Reset()
			for id := range m.pos {
				m.pos[id] = semisync.Position{}
			}
			m.quorum = semisync.Position{}
			got, want = ackset.Update{Quorum: s.Quorum()}, ackset.Update{}
		}
		if got != want {
			d.fatalf("step %d: %s under %v: got %+v, model wants %+v (positions %v)", step, what, s.Policy(), got, want, m.pos)
		}
		if s.Satisfiable() != m.satisfiable() {
			d.fatalf("step %d: after %s Satisfiable()=%v, model says %v", step, what, s.Satisfiable(), m.satisfiable())
		}
		if s.Len() != len(m.pos) {
			d.fatalf("step %d: after %s Len()=%d, model has %d", step, what, s.Len(), len(m.pos))
		}
		for _, id := range allIDs {
			p, ok := s.Acked(id)
			mp, mok := m.pos[id]
			if ok != mok || p != mp {
				d.fatalf("step %d: after %s Acked(%d)=%v,%v, model %v,%v", step, what, id, p, ok, mp, mok)
			}
		}
	}
}

type rapidDriver struct{ t *rapid.T }

func (r rapidDriver) intn(n int, label string) int { return rapid.IntRange(0, n-1).Draw(r.t, label) }
func (r rapidDriver) fatalf(f string, a ...any)    { r.t.Fatalf(f, a...) }

// TestQuorumMatchesModel drives random operation sequences through rapid,
// which shrinks any failure to a minimal sequence.
func TestQuorumMatchesModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { runSequence(rapidDriver{t}, 60) })
}

type seededDriver struct {
	t   *testing.T
	rng *rand.Rand
	s   uint64
}

func (d seededDriver) intn(n int, _ string) int { return d.rng.IntN(n) }
func (d seededDriver) fatalf(f string, a ...any) {
	d.t.Helper()
	d.t.Fatalf("seed %d: "+f, append([]any{d.s}, a...)...)
}

// TestQuorumMatchesModelSeeded runs thousands more sequences from fixed
// seeds; a failure prints its seed.
func TestQuorumMatchesModelSeeded(t *testing.T) {
	n := uint64(5000)
	if testing.Short() {
		n = 500
	}
	for seed := range n {
		runSequence(seededDriver{t, rand.New(rand.NewPCG(seed, 0x5e315)), seed}, 80)
	}
}
