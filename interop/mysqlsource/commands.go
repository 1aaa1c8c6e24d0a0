package mysqlsource

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"github.com/semisync-go/semisync"
)

// Replication commands a replica sends, by their first payload byte.
const (
	ComBinlogDump     = 0x12 // COM_BINLOG_DUMP: stream from a file and position
	ComRegisterSlave  = 0x15 // COM_REGISTER_SLAVE: the replica says who it is
	ComBinlogDumpGTID = 0x1e // COM_BINLOG_DUMP_GTID: MySQL's stream from a GTID set
)

// Flags of the dump commands. The same bit means different things in
// the two commands.
const (
	// DumpNonBlock is BINLOG_DUMP_NON_BLOCK, in both commands: end the
	// stream at the end of the binlog (an EOF packet) rather than wait.
	DumpNonBlock = 0x01
	// DumpSendAnnotateRows is MariaDB's BINLOG_SEND_ANNOTATE_ROWS_EVENT in
	// COM_BINLOG_DUMP: the replica wants Annotate_rows events (the
	// statement of row events); without it a source leaves them out.
	DumpSendAnnotateRows = 0x02
	// DumpThroughPosition is MySQL's BINLOG_THROUGH_POSITION in
	// COM_BINLOG_DUMP_GTID.
	DumpThroughPosition = 0x02
	// DumpThroughGTID is MySQL's BINLOG_THROUGH_GTID in
	// COM_BINLOG_DUMP_GTID. It does not change the command's layout: the
	// GTID set is always there (MySQL's replica sends flags 0 with it).
	DumpThroughGTID = 0x04
)

// ErrMalformedCommand is wrapped by the error of every command parser for
// bytes that are not the command: too short, lengths that run past the
// packet, bytes left over. A server answers it with MySQL's
// ER_MALFORMED_PACKET (1835) and closes the connection.
var ErrMalformedCommand = errors.New("mysqlsource: malformed command")

// RegisterReplica is COM_REGISTER_SLAVE: what SHOW REPLICAS lists.
type RegisterReplica struct {
	ServerID uint32
	// Host, User and Password are the replica's report_host,
	// report_user and report_password, each at most 250 bytes: a length
	// byte and the bytes. (Replicas encode longer ones with a
	// length-encoded prefix, which ParseRegisterReplica refuses.)
	Host, User, Password string
	// Port is its report_port.
	Port uint16
	// Rank is unused by MySQL and MariaDB; SourceID is the server_id of the
	// source the replica thinks it talks to (0 for none).
	Rank, SourceID uint32
}

// ParseRegisterReplica parses the payload of COM_REGISTER_SLAVE, command
// byte included, as MySQL's and MariaDB's replicas send it: nothing may
// follow the source id.
func ParseRegisterReplica(p []byte) (RegisterReplica, error) {
	var r RegisterReplica
	b, err := command(p, ComRegisterSlave, "COM_REGISTER_SLAVE")
	if err != nil {
		return r, err
	}
	if len(b) < 4 {
		return r, malformed("COM_REGISTER_SLAVE", "%d bytes, at least 18", len(p))
	}
	r.ServerID, b = binary.LittleEndian.Uint32(b), b[4:]
	for _, s := range []*string{&r.Host, &r.User, &r.Password} {
		if len(b) < 1 || len(b) < 1+int(b[0]) {
			return RegisterReplica{}, malformed("COM_REGISTER_SLAVE", "a string runs past the packet")
		}
		if b[0] > maxReportLen {
			return RegisterReplica{}, malformed("COM_REGISTER_SLAVE", "a string with the length byte %d (a length-encoded one: at most %d)", b[0], maxReportLen)
		}
		*s, b = string(b[1:1+int(b[0])]), b[1+int(b[0]):]
	}
	if len(b) != 10 {
		return RegisterReplica{}, malformed("COM_REGISTER_SLAVE", "%d bytes after the strings, want 10", len(b))
	}
	r.Port = binary.LittleEndian.Uint16(b)
	r.Rank = binary.LittleEndian.Uint32(b[2:])
	r.SourceID = binary.LittleEndian.Uint32(b[6:])
	return r, nil
}

// maxReportLen is the longest report string with a one-byte length.
const maxReportLen = 250

// AppendRegisterReplica appends COM_REGISTER_SLAVE for r. Strings longer
// than 250 bytes are an error.
func AppendRegisterReplica(dst []byte, r RegisterReplica) ([]byte, error) {
	for _, s := range []string{r.Host, r.User, r.Password} {
		if len(s) > maxReportLen {
			return dst, fmt.Errorf("mysqlsource: a COM_REGISTER_SLAVE string of %d bytes, at most %d", len(s), maxReportLen)
		}
	}
	dst = append(dst, ComRegisterSlave)
	dst = binary.LittleEndian.AppendUint32(dst, r.ServerID)
	for _, s := range []string{r.Host, r.User, r.Password} {
		dst = append(append(dst, byte(len(s))), s...)
	}
	dst = binary.LittleEndian.AppendUint16(dst, r.Port)
	dst = binary.LittleEndian.AppendUint32(dst, r.Rank)
	return binary.LittleEndian.AppendUint32(dst, r.SourceID), nil
}

// Dump is COM_BINLOG_DUMP: stream the binlog from Start, the file and the
// offset in it (4 for its start) at which the replica's copy ends.
type Dump struct {
	Start semisync.Position
	// Flags are DumpNonBlock and the like.
	Flags uint16
	// ServerID is the replica's server_id.
	ServerID uint32
}

// ParseDump parses the payload of COM_BINLOG_DUMP, command byte included.
// The file name is the rest of the packet; a name longer than
// semisync.MaxFileNameLen is refused. An empty name (with offset 4 or
// less) asks for the first binlog file: the server decides which.
func ParseDump(p []byte) (Dump, error) {
	b, err := command(p, ComBinlogDump, "COM_BINLOG_DUMP")
	if err != nil {
		return Dump{}, err
	}
	if len(b) < 10 {
		return Dump{}, malformed("COM_BINLOG_DUMP", "%d bytes, at least 11", len(p))
	}
	name := b[10:]
	if len(name) > semisync.MaxFileNameLen {
		return Dump{}, malformed("COM_BINLOG_DUMP", "a file name of %d bytes, at most %d", len(name), semisync.MaxFileNameLen)
	}
	return Dump{
		Start:    semisync.FilePos(string(name), uint64(binary.LittleEndian.Uint32(b))),
		Flags:    binary.LittleEndian.Uint16(b[4:]),
		ServerID: binary.LittleEndian.Uint32(b[6:]),
	}, nil
}

// AppendDump appends COM_BINLOG_DUMP for d. Its offset must fit the
// command's 4 bytes.
func AppendDump(dst []byte, d Dump) ([]byte, error) {
	if d.Start.Offset() > math.MaxUint32 || len(d.Start.File()) > semisync.MaxFileNameLen {
		return dst, fmt.Errorf("mysqlsource: COM_BINLOG_DUMP cannot name %v", d.Start)
	}
	dst = append(dst, ComBinlogDump)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(d.Start.Offset()))
	dst = binary.LittleEndian.AppendUint16(dst, d.Flags)
	dst = binary.LittleEndian.AppendUint32(dst, d.ServerID)
	return append(dst, d.Start.File()...), nil
}

// UUIDSet is one source's part of a MySQL GTID set: its server_uuid and
// the intervals of transaction numbers, each [Start, End), End exclusive
// as MySQL encodes them, in increasing order, neither overlapping nor
// adjacent, within 1 and 2^63-1 as MySQL requires.
type UUIDSet struct {
	SID       [16]byte
	Intervals []Interval
}

// Interval is a range of transaction numbers, Start included, End not.
type Interval struct{ Start, End uint64 }

// GTIDDump is COM_BINLOG_DUMP_GTID: MySQL's stream of the transactions
// not in GTIDs (File and Pos are empty and 4 from a MySQL replica).
type GTIDDump struct {
	Flags    uint16
	ServerID uint32
	File     string
	Pos      uint64
	// GTIDs is the replica's executed and received set.
	GTIDs []UUIDSet
}

// ParseGTIDDump parses the payload of COM_BINLOG_DUMP_GTID, command byte
// included: flags, server id, file name (with its 4-byte length),
// position, then the GTID set with its 4-byte length, whatever the flags
// say, as MySQL's source reads it. Every length is checked against the
// bytes that follow before anything is allocated, so the memory it takes
// is bounded by the packet's length. MySQL 8.3's tagged GTID sets (a
// format byte in the source count) are refused as malformed.
func ParseGTIDDump(p []byte) (GTIDDump, error) {
	const what = "COM_BINLOG_DUMP_GTID"
	b, err := command(p, ComBinlogDumpGTID, what)
	if err != nil {
		return GTIDDump{}, err
	}
	if len(b) < 10 {
		return GTIDDump{}, malformed(what, "%d bytes, at least 11", len(p))
	}
	d := GTIDDump{Flags: binary.LittleEndian.Uint16(b), ServerID: binary.LittleEndian.Uint32(b[2:])}
	nameLen := uint64(binary.LittleEndian.Uint32(b[6:]))
	b = b[10:]
	if nameLen > semisync.MaxFileNameLen || uint64(len(b)) < nameLen+8 {
		return GTIDDump{}, malformed(what, "a file name of %d bytes with %d bytes left", nameLen, len(b))
	}
	d.File, b = string(b[:nameLen]), b[nameLen:]
	d.Pos, b = binary.LittleEndian.Uint64(b), b[8:]
	if len(b) < 4 || uint64(len(b)-4) != uint64(binary.LittleEndian.Uint32(b)) {
		return GTIDDump{}, malformed(what, "a GTID set whose length is not the rest of the packet")
	}
	if d.GTIDs, err = parseGTIDSet(b[4:], what); err != nil {
		return GTIDDump{}, err
	}
	return d, nil
}

// parseGTIDSet parses MySQL's encoding of a GTID set, as
// COM_BINLOG_DUMP_GTID and PREVIOUS_GTIDS_LOG_EVENT carry it: the number
// of source ids, then for each its 16 bytes, its number of intervals and
// the intervals. b must hold exactly the set.
func parseGTIDSet(b []byte, what string) ([]UUIDSet, error) {
	if len(b) < 8 {
		return nil, malformed(what, "a GTID set of %d bytes", len(b))
	}
	n, b := binary.LittleEndian.Uint64(b), b[8:]
	if n > uint64(len(b))/24 {
		return nil, malformed(what, "%d source ids in %d bytes", n, len(b))
	}
	set := make([]UUIDSet, 0, n)
	for range n {
		if len(b) < 24 {
			return nil, malformed(what, "a source id cut short")
		}
		var s UUIDSet
		copy(s.SID[:], b)
		k := binary.LittleEndian.Uint64(b[16:])
		b = b[24:]
		if k > uint64(len(b))/16 {
			return nil, malformed(what, "%d intervals in %d bytes", k, len(b))
		}
		s.Intervals = make([]Interval, k)
		for i := range s.Intervals {
			s.Intervals[i], b = Interval{Start: binary.LittleEndian.Uint64(b), End: binary.LittleEndian.Uint64(b[8:])}, b[16:]
		}
		if err := s.check(); err != nil {
			return nil, malformed(what, "%v", err)
		}
		set = append(set, s)
	}
	if len(b) != 0 {
		return nil, malformed(what, "%d bytes after the GTID set", len(b))
	}
	return set, nil
}

// AppendGTIDDump appends COM_BINLOG_DUMP_GTID for d, GTID set included.
// A set MySQL would refuse (see UUIDSet) is an error, and so is one too
// large for the command's 4-byte length.
func AppendGTIDDump(dst []byte, d GTIDDump) ([]byte, error) {
	if len(d.File) > semisync.MaxFileNameLen {
		return dst, fmt.Errorf("mysqlsource: a file name of %d bytes, at most %d", len(d.File), semisync.MaxFileNameLen)
	}
	size := 8
	for _, s := range d.GTIDs {
		if err := s.check(); err != nil {
			return dst, fmt.Errorf("mysqlsource: %w", err)
		}
		size += 24 + 16*len(s.Intervals)
	}
	if size > math.MaxUint32 {
		return dst, fmt.Errorf("mysqlsource: a GTID set of %d bytes", size)
	}
	dst = append(dst, ComBinlogDumpGTID)
	dst = binary.LittleEndian.AppendUint16(dst, d.Flags)
	dst = binary.LittleEndian.AppendUint32(dst, d.ServerID)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(d.File)))
	dst = append(dst, d.File...)
	dst = binary.LittleEndian.AppendUint64(dst, d.Pos)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(size))
	dst = binary.LittleEndian.AppendUint64(dst, uint64(len(d.GTIDs)))
	for _, s := range d.GTIDs {
		dst = append(dst, s.SID[:]...)
		dst = binary.LittleEndian.AppendUint64(dst, uint64(len(s.Intervals)))
		for _, iv := range s.Intervals {
			dst = binary.LittleEndian.AppendUint64(dst, iv.Start)
			dst = binary.LittleEndian.AppendUint64(dst, iv.End)
		}
	}
	return dst, nil
}

// check applies MySQL's rules to s's intervals: each within 1 and
// 2^63-1 (End exclusive), in increasing order, neither overlapping nor
// adjacent.
func (s UUIDSet) check() error {
	prev := uint64(0)
	for _, iv := range s.Intervals {
		if iv.Start <= prev || iv.End <= iv.Start || iv.End-1 > math.MaxInt64 {
			return fmt.Errorf("an interval [%d, %d) after %d", iv.Start, iv.End, prev)
		}
		prev = iv.End
	}
	return nil
}

// command checks the command byte and returns the rest.
func command(p []byte, cmd byte, what string) ([]byte, error) {
	if len(p) < 1 || p[0] != cmd {
		return nil, malformed(what, "not the command (0x%02x)", cmd)
	}
	return p[1:], nil
}

func malformed(what, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrMalformedCommand, what, fmt.Sprintf(format, args...))
}
