package wire

// BufCap returns the capacity of pr's payload buffer, so that tests can
// check that a length a peer merely announces does not make it grow.
func BufCap(pr *PacketReader) int { return cap(pr.buf) }
