package mysqlsource

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Event types a source makes up for a dump, or writes into a binlog it
// keeps itself.
const (
	TypeQuery             = 2   // QUERY_EVENT
	TypeRotate            = 4   // ROTATE_EVENT
	TypeXID               = 16  // XID_EVENT
	TypeFormatDescription = 15  // FORMAT_DESCRIPTION_EVENT
	TypeHeartbeat         = 27  // HEARTBEAT_LOG_EVENT
	TypeBinlogCheckpoint  = 161 // MariaDB's BINLOG_CHECKPOINT_EVENT
	TypeMariaGTID         = 162 // MariaDB's GTID_EVENT
	TypeMariaGTIDList     = 163 // MariaDB's GTID_LIST_EVENT
)

// Header flags and constants of binlog events.
const (
	// HeaderLen is the length of a version 4 event header.
	HeaderLen = 19
	// ChecksumLen is the length of the CRC32 trailer of an event written
	// with binlog_checksum=CRC32.
	ChecksumLen = 4
	// FlagArtificial is LOG_EVENT_ARTIFICIAL_F, on the rotate a source
	// sends first in a dump: made up for this dump, not in the binlog.
	FlagArtificial = 0x20
	// ServerVersionLen is the length of the server version field of a
	// format description, padded with zeros.
	ServerVersionLen = 50
)

// Checksum algorithms, as a format description names them.
const (
	ChecksumOff   = 0
	ChecksumCRC32 = 1
)

// MariaDB GTID event flags (flags2).
const (
	GTIDStandalone    = 0x01 // FL_STANDALONE: no BEGIN/COMMIT around it (DDL)
	GTIDGroupCommitID = 0x02 // FL_GROUP_COMMIT_ID: a commit id follows
	GTIDTransactional = 0x04 // FL_TRANSACTIONAL
	GTIDAllowParallel = 0x08 // FL_ALLOW_PARALLEL
	GTIDWaited        = 0x10 // FL_WAITED
	GTIDDDL           = 0x20 // FL_DDL
	gtidXA            = 0xc0 // FL_PREPARED_XA, FL_COMPLETED_XA: an XID follows
)

// MariaDB1011PostHeaderLens returns the post-header length of each event
// type in the format description of MariaDB 10.11 (types 1 to 171, one
// byte each), as its servers send it: the array a MariaDB replica expects
// from a source of that version. Checked against a real server's bytes.
// Each call returns a new slice.
func MariaDB1011PostHeaderLens() []byte { return bytes.Clone(mariaDB1011PostHeaderLens) }

var mariaDB1011PostHeaderLens = []byte{
	0x38, 0x0d, 0x00, 0x08, 0x00, 0x12, 0x00, 0x04, 0x04, 0x04, 0x04, 0x12, 0x00, 0x00, 0xe4, 0x00,
	0x04, 0x1a, 0x08, 0x00, 0x00, 0x00, 0x08, 0x08, 0x08, 0x02, 0x00, 0x00, 0x00, 0x0a, 0x0a, 0x0a,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x0a, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x04, 0x13, 0x04, 0x00, 0x0d, 0x08, 0x08, 0x08, 0x0a, 0x0a, 0x0a,
}

// Header is what a made-up event's header says besides its type and
// size, which the builders set.
type Header struct {
	// Timestamp is the event's time in seconds since 1970; 0 for the
	// rotate and heartbeats a source makes up.
	Timestamp uint32
	// ServerID is the source's server_id.
	ServerID uint32
	// LogPos is the position in the binlog file at which the event ends;
	// 0 for the rotate that opens a dump, and for a format description
	// sent at a dump that starts after a file's first event. A heartbeat
	// carries the position of the last event sent.
	LogPos uint32
	// Flags are the header's flags (FlagArtificial for the rotate that
	// opens a dump).
	Flags uint16
}

// FormatDescription is the body of a format description event.
type FormatDescription struct {
	// BinlogVersion is 4 for every MySQL 5.0+ and MariaDB binlog.
	BinlogVersion uint16
	// ServerVersion is the source's version string, at most 50 bytes
	// (MariaDB's ends in "-MariaDB" and, with the binlog on, "-log").
	ServerVersion string
	// Created is the time the binlog file was created: the header's
	// timestamp for the file's own format description, 0 when it is sent
	// at a dump that starts later in the file.
	Created uint32
	// PostHeaderLens is the post-header length of each event type, from
	// type 1 on (MariaDB1011PostHeaderLens() for MariaDB 10.11).
	PostHeaderLens []byte
	// Checksum is the binlog's checksum algorithm: ChecksumOff or
	// ChecksumCRC32. A format description always carries the CRC32
	// trailer when its algorithm is CRC32.
	Checksum uint8
}

// GTID is a MariaDB global transaction id: domain, server and sequence
// number ("0-1-42").
type GTID struct {
	Domain   uint32
	ServerID uint32
	Seq      uint64
}

// String returns the GTID as MariaDB writes it: domain-server-seq.
func (g GTID) String() string { return fmt.Sprintf("%d-%d-%d", g.Domain, g.ServerID, g.Seq) }

// AppendRotate appends a rotate event: the binlog goes on at position pos
// of file. With checksum, it ends in a CRC32. The rotate that opens a dump
// has Timestamp and LogPos 0 and FlagArtificial, and names the file and
// position the dump starts at.
func AppendRotate(dst []byte, h Header, file string, pos uint64, checksum bool) []byte {
	start := len(dst)
	dst = appendHeader(dst, h, TypeRotate)
	dst = binary.LittleEndian.AppendUint64(dst, pos)
	dst = append(dst, file...)
	return finish(dst, start, checksum)
}

// AppendFormatDescription appends a format description event. Its
// trailer follows fd.Checksum: a CRC32 when it is ChecksumCRC32.
func AppendFormatDescription(dst []byte, h Header, fd FormatDescription) ([]byte, error) {
	if len(fd.ServerVersion) > ServerVersionLen {
		return dst, fmt.Errorf("mysqlsource: a server version of %d bytes, at most %d", len(fd.ServerVersion), ServerVersionLen)
	}
	if fd.Checksum != ChecksumOff && fd.Checksum != ChecksumCRC32 {
		return dst, fmt.Errorf("mysqlsource: checksum algorithm %d, want %d (OFF) or %d (CRC32)", fd.Checksum, ChecksumOff, ChecksumCRC32)
	}
	start := len(dst)
	dst = appendHeader(dst, h, TypeFormatDescription)
	dst = binary.LittleEndian.AppendUint16(dst, fd.BinlogVersion)
	dst = append(dst, fd.ServerVersion...)
	dst = append(dst, make([]byte, ServerVersionLen-len(fd.ServerVersion))...)
	dst = binary.LittleEndian.AppendUint32(dst, fd.Created)
	dst = append(dst, HeaderLen)
	dst = append(dst, fd.PostHeaderLens...)
	dst = append(dst, fd.Checksum)
	return finish(dst, start, fd.Checksum == ChecksumCRC32), nil
}

// AppendHeartbeat appends a heartbeat event: the source is alive, and has
// sent everything up to h.LogPos of file. Heartbeats are not in the
// binlog; their Timestamp is 0.
func AppendHeartbeat(dst []byte, h Header, file string, checksum bool) []byte {
	start := len(dst)
	dst = appendHeader(dst, h, TypeHeartbeat)
	dst = append(dst, file...)
	return finish(dst, start, checksum)
}

// AppendBinlogCheckpoint appends MariaDB's binlog checkpoint event: the
// oldest binlog file crash recovery needs is file.
func AppendBinlogCheckpoint(dst []byte, h Header, file string, checksum bool) []byte {
	start := len(dst)
	dst = appendHeader(dst, h, TypeBinlogCheckpoint)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(file)))
	dst = append(dst, file...)
	return finish(dst, start, checksum)
}

// AppendGTIDList appends MariaDB's GTID list event, which follows the
// format description of every binlog file: the last GTID of each
// (domain, server) in the files before it. flags are the list's 4 flag
// bits (0 in a binlog file). An empty list is padded with two zero bytes,
// as MariaDB writes it.
func AppendGTIDList(dst []byte, h Header, list []GTID, flags uint8, checksum bool) ([]byte, error) {
	if len(list) >= 1<<28 || flags >= 1<<4 {
		return dst, fmt.Errorf("mysqlsource: a GTID list of %d entries with flags %#x (at most 2^28-1 entries, 4 flag bits)", len(list), flags)
	}
	start := len(dst)
	dst = appendHeader(dst, h, TypeMariaGTIDList)
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(list))|uint32(flags)<<28)
	for _, g := range list {
		dst = binary.LittleEndian.AppendUint32(dst, g.Domain)
		dst = binary.LittleEndian.AppendUint32(dst, g.ServerID)
		dst = binary.LittleEndian.AppendUint64(dst, g.Seq)
	}
	if len(list) == 0 {
		dst = append(dst, 0, 0) // MariaDB pads an empty list with 2 zero bytes
	}
	return finish(dst, start, checksum), nil
}

// AppendMariaGTID appends MariaDB's GTID event, which opens each event
// group: its sequence number and domain (the server is the header's
// ServerID), flags2 (GTIDStandalone, ...), and with GTIDGroupCommitID the
// commit id. Events of XA transactions (flags2 0x40 or 0x80, which an XID
// follows) are refused, and flags_extra (MariaDB 10.5+'s extra fields)
// are not made here.
func AppendMariaGTID(dst []byte, h Header, seq uint64, domain uint32, flags2 uint8, commitID uint64, checksum bool) ([]byte, error) {
	if flags2&gtidXA != 0 {
		return dst, fmt.Errorf("mysqlsource: GTID flags %#x name an XA transaction, not made here", flags2)
	}
	start := len(dst)
	dst = appendHeader(dst, h, TypeMariaGTID)
	dst = binary.LittleEndian.AppendUint64(dst, seq)
	dst = binary.LittleEndian.AppendUint32(dst, domain)
	dst = append(dst, flags2)
	if flags2&GTIDGroupCommitID != 0 {
		dst = binary.LittleEndian.AppendUint64(dst, commitID)
	} else {
		dst = append(dst, 0, 0, 0, 0, 0, 0)
	}
	return finish(dst, start, checksum), nil
}

// AppendQuery appends a query event: statement q, run with schema as the
// default database (empty for none), with no status variables (the
// replica runs it with its own session defaults: character set, sql_mode
// and the like). A schema longer than 255 bytes is an error.
func AppendQuery(dst []byte, h Header, schema, q string, checksum bool) ([]byte, error) {
	if len(schema) > 255 {
		return dst, fmt.Errorf("mysqlsource: a schema name of %d bytes, at most 255", len(schema))
	}
	start := len(dst)
	dst = appendHeader(dst, h, TypeQuery)
	dst = append(dst, 0, 0, 0, 0, 0, 0, 0, 0)        // thread id, execution time
	dst = append(dst, byte(len(schema)), 0, 0, 0, 0) // schema length, error code, status variables length
	dst = append(dst, schema...)
	dst = append(dst, 0)
	dst = append(dst, q...)
	return finish(dst, start, checksum), nil
}

// AppendXID appends an XID event: the commit of a transaction of a
// transactional engine (InnoDB), with its transaction id.
func AppendXID(dst []byte, h Header, xid uint64, checksum bool) []byte {
	start := len(dst)
	dst = appendHeader(dst, h, TypeXID)
	dst = binary.LittleEndian.AppendUint64(dst, xid)
	return finish(dst, start, checksum)
}

// SetLogPos sets the log_pos of the event ev (its end in the binlog, which
// a host knows once it knows where the event goes) and, with checksum,
// makes its CRC32 again. It does nothing to an event shorter than a
// header.
func SetLogPos(ev []byte, pos uint32, checksum bool) {
	if len(ev) < HeaderLen || checksum && len(ev) < HeaderLen+ChecksumLen {
		return
	}
	binary.LittleEndian.PutUint32(ev[13:], pos)
	if checksum {
		binary.LittleEndian.PutUint32(ev[len(ev)-ChecksumLen:], crc32.ChecksumIEEE(ev[:len(ev)-ChecksumLen]))
	}
}

// appendHeader appends h with type typ and a size to be set by finish.
func appendHeader(dst []byte, h Header, typ uint8) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, h.Timestamp)
	dst = append(dst, typ)
	dst = binary.LittleEndian.AppendUint32(dst, h.ServerID)
	dst = binary.LittleEndian.AppendUint32(dst, 0) // the size, set by finish
	dst = binary.LittleEndian.AppendUint32(dst, h.LogPos)
	return binary.LittleEndian.AppendUint16(dst, h.Flags)
}

// finish sets the size of the event that starts at dst[start] and, with
// checksum, appends its CRC32 (IEEE, over the whole event, with the size
// counting the trailer).
func finish(dst []byte, start int, checksum bool) []byte {
	size := len(dst) - start
	if checksum {
		size += ChecksumLen
	}
	binary.LittleEndian.PutUint32(dst[start+9:], uint32(size))
	if checksum {
		dst = binary.LittleEndian.AppendUint32(dst, crc32.ChecksumIEEE(dst[start:]))
	}
	return dst
}
