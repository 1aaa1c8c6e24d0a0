package source

import "github.com/semisync-go/semisync"

// posQueue is a FIFO of strictly increasing positions: the group ends written
// while status is ON and not yet acknowledged (MySQL's active transaction
// list, spec §5.3, without the waiters). It is a ring buffer that grows by
// doubling, so in steady state it does not allocate.
type posQueue struct {
	buf        []semisync.Position
	head, size int
}

func (q *posQueue) push(p semisync.Position) {
	if q.size == len(q.buf) {
		n := 2 * len(q.buf)
		if n == 0 {
			n = 64
		}
		nb := make([]semisync.Position, n)
		for i := 0; i < q.size; i++ {
			nb[i] = q.buf[(q.head+i)%len(q.buf)]
		}
		q.buf, q.head = nb, 0
	}
	q.buf[(q.head+q.size)%len(q.buf)] = p
	q.size++
}

func (q *posQueue) at(i int) semisync.Position { return q.buf[(q.head+i)%len(q.buf)] }

// dropThrough removes every position at or before p.
func (q *posQueue) dropThrough(p semisync.Position) {
	for q.size > 0 && q.buf[q.head].Compare(p) <= 0 {
		q.buf[q.head] = semisync.Position{}
		q.head = (q.head + 1) % len(q.buf)
		q.size--
	}
}

// contains reports whether p is exactly one of the positions (binary search).
func (q *posQueue) contains(p semisync.Position) bool {
	lo, hi := 0, q.size
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch c := q.at(m).Compare(p); {
		case c == 0:
			return true
		case c < 0:
			lo = m + 1
		default:
			hi = m
		}
	}
	return false
}

func (q *posQueue) clear() {
	for q.size > 0 {
		q.buf[q.head] = semisync.Position{}
		q.head = (q.head + 1) % len(q.buf)
		q.size--
	}
	q.head = 0
}

// epoch is a stretch of the binlog written while status was ON: positions
// after from and, once closed, up to and including to.
type epoch struct {
	from, to semisync.Position
	open     bool
}

// maxEpochs bounds the remembered ON stretches. A commit whose position lies
// in a stretch older than that (maxEpochs switch-ons ago) is treated as
// written while asynchronous.
const maxEpochs = 64

// epochs remembers the last maxEpochs ON stretches, newest last.
type epochs struct {
	e [maxEpochs]epoch
	n int
}

func (es *epochs) openAt(from semisync.Position) {
	if es.n == maxEpochs {
		copy(es.e[:], es.e[1:])
		es.n--
	}
	es.e[es.n] = epoch{from: from, open: true}
	es.n++
}

func (es *epochs) closeAt(to semisync.Position) {
	if es.n > 0 && es.e[es.n-1].open {
		es.e[es.n-1].open, es.e[es.n-1].to = false, to
	}
}

// current returns the open stretch's start.
func (es *epochs) current() (semisync.Position, bool) {
	if es.n > 0 && es.e[es.n-1].open {
		return es.e[es.n-1].from, true
	}
	return semisync.Position{}, false
}

// covers reports whether p was written while status was ON.
func (es *epochs) covers(p semisync.Position) bool {
	for i := es.n - 1; i >= 0; i-- {
		e := &es.e[i]
		if e.from.Compare(p) < 0 && (e.open || p.Compare(e.to) <= 0) {
			return true
		}
	}
	return false
}

func (es *epochs) reset() { *es = epochs{} }
