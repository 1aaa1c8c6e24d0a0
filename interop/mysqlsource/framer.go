package mysqlsource

import (
	"math"

	"github.com/semisync-go/semisync"
	"github.com/semisync-go/semisync/dump"
)

// Framer is MySQL's protocol for package dump: an event's packet carries
// the binlog event itself after the semisync header (nothing goes before
// it), and a heartbeat is a HEARTBEAT_LOG_EVENT naming the file and
// position of the last event sent, as MariaDB and MySQL 5.7/8.0 (before
// their v2 heartbeat) send it.
type Framer struct {
	// ServerID is the source's server_id, in each heartbeat's header.
	ServerID uint32
	// Checksum adds the CRC32 trailer to heartbeats: set it when the
	// binlog's events have one (MySQL's heartbeats follow the binlog's
	// checksum, as the replica reads them after the format description).
	Checksum bool
}

var _ dump.Framer = Framer{}

// AppendEventHead appends nothing: the payload is the event.
func (Framer) AppendEventHead(dst []byte, _ semisync.Position, _ []byte) []byte { return dst }

// AppendHeartbeat appends a heartbeat event for last. A heartbeat's
// position field has 4 bytes; an offset beyond 4 GiB is sent as the
// largest it holds (MySQL's binlog files stay below max_binlog_size, at
// most 1 GiB, plus one event).
func (f Framer) AppendHeartbeat(dst []byte, last semisync.Position) []byte {
	pos := uint32(min(last.Offset(), math.MaxUint32))
	return AppendHeartbeat(dst, Header{ServerID: f.ServerID, LogPos: pos}, last.File(), f.Checksum)
}
