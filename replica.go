package semisync

import "strconv"

// ReplicaID identifies a replica. MySQL and MariaDB use the replica's
// server_id (an unsigned 32-bit number, sent in COM_BINLOG_DUMP and
// COM_REGISTER_SLAVE); other hosts map their own names to IDs. Two
// connections with the same ID are the same replica: a new one replaces the
// old, as MySQL kills a dump thread whose server_id reconnects.
type ReplicaID uint32

// String returns the decimal form of id.
func (id ReplicaID) String() string { return strconv.FormatUint(uint64(id), 10) }
