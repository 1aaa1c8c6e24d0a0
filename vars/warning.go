package vars

import (
	"strconv"
	"strings"
)

// WarningKind classifies a [Warning].
type WarningKind uint8

const (
	// WarnGroupNotRead is a semisync option in a group that the registry's
	// flavor does not read, such as [mariadb] in a file given to a MySQL
	// registry, or a version-suffixed group such as [mysqld-8.0] (see
	// [Registry.ParseOptionFile]): the option is skipped, as that flavor's
	// server would skip it, although whoever wrote it meant it for a
	// server. A semisync option is one whose name, after its prefixes
	// (loose-, skip- and the like) are stripped and '-' is read as '_',
	// is a variable of any flavor.
	WarnGroupNotRead WarningKind = iota + 1
	// WarnUnknownLoose is a loose- option in a group the flavor reads that
	// looks like a semisync variable (its name starts with rpl_semi_sync,
	// or it is another flavor's variable) but is not one of this flavor's:
	// it is dropped, as MySQL and MariaDB drop it with "[Warning] unknown
	// variable". Without loose- such an option is an error.
	WarnUnknownLoose
)

var warningKindNames = [...]string{
	WarnGroupNotRead: "group-not-read",
	WarnUnknownLoose: "unknown-loose",
}

// String returns "group-not-read" or "unknown-loose".
func (k WarningKind) String() string {
	if int(k) < len(warningKindNames) && warningKindNames[k] != "" {
		return warningKindNames[k]
	}
	return "WarningKind(" + strconv.Itoa(int(k)) + ")"
}

// Warning is an option of an option file that was skipped although it
// concerns semisync: nothing was applied for it. MySQL prints a warning for
// some of these ([WarnUnknownLoose]) and passes over the others in silence
// ([WarnGroupNotRead]); a host should show them all to whoever wrote the
// file. Warnings are values: [Registry.ParseOptionFileWarnings] and
// [Registry.LoadOptionFileWarnings] return them in file order.
type Warning struct {
	// Kind says why the option was skipped.
	Kind WarningKind
	// File and Line locate the option (File is the name the file was
	// loaded under).
	File string
	Line int
	// Group is the option's group as written between the brackets.
	Group string
	// Option is the option as MySQL's parser sees it: its name as
	// written, prefixes included, and "=value" when it has a value, for
	// example "loose-rpl-semi-sync-master-timeout=700".
	Option string
	// Detail explains the warning further: which groups the flavor
	// reads, or whose name the option is and this flavor's name for it.
	Detail string
}

// String formats the warning as MySQL formats its option warnings, after
// the file and line, for example
//
//	my.cnf:7: [Warning] unknown variable 'loose-rpl_semi_sync_master_timeout=700': it is the MySQL legacy (master/slave) and MariaDB name; this registry uses MySQL 8.0.26+ names: rpl_semi_sync_source_timeout
func (w Warning) String() string {
	var b strings.Builder
	if w.File != "" {
		b.WriteString(w.File)
		if w.Line > 0 {
			b.WriteByte(':')
			b.WriteString(strconv.Itoa(w.Line))
		}
		b.WriteString(": ")
	}
	b.WriteString("[Warning] ")
	switch w.Kind {
	case WarnGroupNotRead:
		b.WriteString("option '" + w.Option + "' in group [" + w.Group + "] skipped")
	case WarnUnknownLoose:
		b.WriteString("unknown variable '" + w.Option + "'")
	default:
		b.WriteString(w.Kind.String() + " '" + w.Option + "'")
	}
	if w.Detail != "" {
		b.WriteString(": ")
		b.WriteString(w.Detail)
	}
	return b.String()
}
