package vars

import (
	"bufio"
	"errors"
	"io"
	"strings"

	"github.com/semisync-go/semisync"
)

// maxOptionLine bounds the length of an option-file line.
const maxOptionLine = 1 << 20

// optionGroups are the option-file groups each flavor's server reads. MySQL
// reads [mysqld] and [server]; MariaDB also reads [mariadb], [mariadbd] and
// [client-server]. Version-suffixed groups ([mysqld-8.0], [mariadb-10.11])
// are not read.
var optionGroups = [...][]string{
	semisync.FlavorMySQL:       {"mysqld", "server"},
	semisync.FlavorMySQLLegacy: {"mysqld", "server"},
	semisync.FlavorMariaDB:     {"mysqld", "server", "mariadb", "mariadbd", "client-server"},
}

// pluginOptions are the plugin-activation options of each flavor's plugins
// (--rpl-semi-sync-source=FORCE_PLUS_PERMANENT and the like). They are
// options of the plugin loader, not variables: ignored. MariaDB's semisync
// is built in and has none.
var pluginOptions = [...][]string{
	semisync.FlavorMySQL:       {"rpl_semi_sync_source", "rpl_semi_sync_replica"},
	semisync.FlavorMySQLLegacy: {"rpl_semi_sync_master", "rpl_semi_sync_slave"},
	semisync.FlavorMariaDB:     nil,
}

// optionPrefixes are the prefixes MySQL's option parser strips from option
// names (my_getopt), in the order it tries them.
var optionPrefixes = [...]string{"skip", "disable", "enable", "maximum", "loose"}

// ParseOptionFile reads an option file in my.cnf syntax and returns the
// assignments to this flavor's variables, in file order, each with the
// file name and line. It does not apply them; see [Registry.LoadOptionFile].
//
// It reads the groups the flavor's server reads: [mysqld] and [server], and
// for MariaDB also [mariadb], [mariadbd] and [client-server]. Group names
// ignore case. Other groups are skipped, and so are options in the read
// groups that are not semisync variables (datadir, log-bin, server-id,
// plugin-load-add, the plugin-activation options such as
// rpl-semi-sync-source=FORCE_PLUS_PERMANENT).
//
// Syntax, as MySQL's option-file reader and option parser define it:
// "name", "name = value" or "name=value"; '-' and '_' are the same in names;
// lines starting with '#' or ';' are comments, and '#' outside quotes starts
// a comment anywhere; a value may be quoted with ' or " and may use the
// escapes \b \t \n \r \s \" \' \\; integers may carry a K, M, G, T, P or E
// suffix (powers of 1024); a boolean with no value means ON; the prefixes
// skip- and disable- mean OFF and enable- means ON (as in MySQL, skip-x=0
// and disable-x=0 mean ON and enable-x=0 means OFF); loose- makes an unknown
// option a no-op (MySQL prints a warning).
//
// Errors, all *[Error] values with the file name and line: a semisync
// variable this flavor does not know (a name starting with rpl_semi_sync,
// or a semisync variable of another flavor) is [ErrUnknownVariable] unless
// loose-; !include and !includedir are [ErrUnsupported], never silently
// skipped; an option before any group, a malformed group or another
// !directive is [ErrSyntax]; the skip-, disable- and enable- prefixes on a
// non-boolean variable are [ErrWrongType] (MySQL would set it to 0 or 1).
// Values are checked when the assignments are applied. An error reading rd
// is returned wrapped; match it with [errors.Is].
//
// Deviations: MySQL matches option names case-sensitively; this package
// ignores case, as for variable names in SQL. MySQL's "maximum-" prefix is
// [ErrUnsupported].
func (r *Registry) ParseOptionFile(rd io.Reader, filename string) ([]Assignment, error) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 4096), maxOptionLine)
	var (
		out     []Assignment
		line    int
		inGroup bool // a group header has been seen
		reading bool // the current group is one this flavor reads
	)
	fail := func(kind ErrorKind, name, value, detail string) error {
		return newError(kind, name, value, detail).at(filename, line)
	}
	for sc.Scan() {
		line++
		text := sc.Text()
		if line == 1 {
			text = strings.TrimPrefix(text, "\ufeff")
		}
		text = strings.TrimSpace(text)
		switch {
		case text == "" || text[0] == '#' || text[0] == ';':
			continue
		case text[0] == '!':
			word, _, _ := strings.Cut(text[1:], " ")
			word, _, _ = strings.Cut(word, "\t")
			if strings.EqualFold(word, "include") || strings.EqualFold(word, "includedir") {
				return nil, fail(ErrUnsupported, "", "", "!"+strings.ToLower(word)+" is not supported; pass each file to LoadOptionFile")
			}
			return nil, fail(ErrSyntax, "", "", "wrong '!' directive "+text)
		case text[0] == '[':
			end := strings.IndexByte(text, ']')
			if end < 0 {
				return nil, fail(ErrSyntax, "", "", "wrong group definition "+text)
			}
			group := strings.TrimSpace(text[1:end])
			inGroup = true
			reading = containsFold(optionGroups[r.flavor], group)
			continue
		}
		if !inGroup {
			return nil, fail(ErrSyntax, "", "", "option without preceding group")
		}
		if !reading {
			continue
		}
		a, ok, err := r.optionLine(text)
		if err != nil {
			return nil, err.at(filename, line)
		}
		if ok {
			a.File, a.Line = filename, line
			out = append(out, a)
		}
	}
	if err := sc.Err(); err != nil {
		line++
		if errors.Is(err, bufio.ErrTooLong) {
			return nil, fail(ErrSyntax, "", "", "line longer than 1 MiB")
		}
		return nil, &readError{file: filename, err: err}
	}
	return out, nil
}

// readError reports an I/O error reading an option file.
type readError struct {
	file string
	err  error
}

func (e *readError) Error() string { return "vars: reading " + e.file + ": " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

func containsFold(list []string, s string) bool { return indexFold(list, s) >= 0 }

// optionLine reads one option line of a group this flavor reads. ok is
// false for options that are not this flavor's variables and may be
// skipped.
func (r *Registry) optionLine(text string) (a Assignment, ok bool, err *Error) {
	text = strings.TrimRightFunc(removeEndComment(text), isSpaceRune)
	written, value, hasValue := strings.Cut(text, "=")
	written = strings.TrimSpace(written)
	if written == "" {
		return a, false, newError(ErrSyntax, "", "", "option without a name: "+text)
	}
	if hasValue {
		value = unquoteOption(strings.TrimSpace(value))
	}
	name := strings.ReplaceAll(strings.ToLower(written), "-", "_")
	// Strip prefixes as my_getopt does, one at a time. Only the prefix
	// right before the name decides the value (skip-loose-x ignores the
	// skip); loose- counts wherever it is.
	prefix, loose := "", false
	for stripped := true; stripped; {
		stripped = false
		for _, p := range optionPrefixes {
			if rest, found := strings.CutPrefix(name, p+"_"); found {
				name, prefix, stripped = rest, p, true
				loose = loose || p == "loose"
				break
			}
		}
	}
	if prefix == "loose" {
		prefix = ""
	}
	i, known := r.index[name]
	if !known {
		if containsFold(pluginOptions[r.flavor], name) || !r.semisyncName(name) || loose {
			return a, false, nil
		}
		e := r.unknown(name)
		e.Var = written
		return a, false, e
	}
	v := &r.vars[i]
	a.Name, a.Form = v.String(), FormOption
	switch {
	case prefix == "maximum":
		return a, false, newError(ErrUnsupported, v.String(), value, "the maximum- prefix is not supported")
	case prefix != "":
		if v.def.kind != KindBool {
			return a, false, newError(ErrWrongType, v.String(), value,
				"the skip-, disable- and enable- prefixes apply only to boolean options")
		}
		if hasValue {
			if _, okb := parseAnyBool(value); !okb {
				return a, false, newError(ErrWrongValue, v.String(), value, "want ON, OFF, TRUE, FALSE, 1 or 0")
			}
		}
		// my_getopt: skip-x and disable-x mean OFF, enable-x means ON, and
		// a value of exactly "0" inverts that ("double negation").
		on := prefix == "enable"
		if hasValue && value == "0" {
			on = !on
		}
		a.Value = onOff(on)
	case !hasValue:
		if v.def.kind != KindBool {
			return a, false, newError(ErrWrongValue, v.String(), "", "option requires a value")
		}
		a.Value = "ON"
	default:
		a.Value = value
	}
	return a, true, nil
}

// semisyncName reports whether an option name (lower case, underscores)
// looks like a semisync variable: it starts with rpl_semi_sync or is a
// variable of any flavor. Such names are errors when this flavor lacks
// them; other options are not ours.
func (r *Registry) semisyncName(name string) bool {
	if strings.HasPrefix(name, "rpl_semi_sync") {
		return true
	}
	for i := range defs {
		if containsFold(defs[i].names[:], name) {
			return true
		}
	}
	return false
}

func onOff(on bool) string {
	if on {
		return "ON"
	}
	return "OFF"
}

func isSpaceRune(c rune) bool { return c < 0x80 && isSpace(byte(c)) }

// removeEndComment cuts text at the first '#' outside quotes, as MySQL's
// option-file reader does.
func removeEndComment(text string) string {
	var quote byte
	escape := false
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case (c == '\'' || c == '"') && !escape:
			if quote == 0 {
				quote = c
			} else if quote == c {
				quote = 0
			}
		case quote == 0 && c == '#':
			return text[:i]
		}
		escape = quote != 0 && c == '\\' && !escape
	}
	return text
}

// optionEscapes are the escapes of option-file values; a backslash before
// any other character stays.
var optionEscapes = map[byte]byte{'b': '\b', 't': '\t', 'n': '\n', 'r': '\r', 's': ' ', '"': '"', '\'': '\'', '\\': '\\'}

// unquoteOption strips matching quotes around an option value and resolves
// escapes, as MySQL's option-file reader does.
func unquoteOption(v string) string {
	if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') && v[len(v)-1] == v[0] {
		v = v[1 : len(v)-1]
	}
	if !strings.Contains(v, `\`) {
		return v
	}
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		if v[i] == '\\' && i+1 < len(v) {
			if r, ok := optionEscapes[v[i+1]]; ok {
				b.WriteByte(r)
				i++
				continue
			}
		}
		b.WriteByte(v[i])
	}
	return b.String()
}
