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
// rpl-semi-sync-source=FORCE_PLUS_PERMANENT). The semisync options among
// the skipped ones are reported by [Registry.ParseOptionFileWarnings].
//
// Syntax, as MySQL's option-file reader and option parser define it:
// "name", "name = value" or "name=value"; '-' and '_' are the same in names;
// lines starting with '#' or ';' are comments, and '#' outside quotes starts
// a comment anywhere; a value may be quoted with ' or " and may use the
// escapes \b \t \n \r \s \" \' \\; integers may carry a K, M, G, T, P or E
// suffix (powers of 1024); a boolean with no value means ON; the prefixes
// skip- and disable- mean OFF and enable- means ON (as in MySQL, skip-x=0
// and disable-x=0 mean ON and enable-x=0 means OFF); loose- makes an unknown
// option a no-op (MySQL prints a warning; see [WarnUnknownLoose]).
//
// Errors, all *[Error] values with the file name and line: a semisync
// variable this flavor does not know (a name starting with rpl_semi_sync,
// or a semisync variable of another flavor) is [ErrUnknownVariable] unless
// loose-. That includes the other MySQL generation's names: a MySQL
// 8.0.26+ server runs the rpl_semi_sync_source plugin, which has no
// rpl_semi_sync_master_* variables (the two plugin generations exclude
// each other, spec §0), so such an option stops it at startup with
// "unknown variable"; the error says this flavor's name. !include and !includedir are [ErrUnsupported], never silently
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
	as, _, err := r.ParseOptionFileWarnings(rd, filename)
	return as, err
}

// ParseOptionFileWarnings is [Registry.ParseOptionFile] that also returns a
// [Warning] for each option it skipped although it concerns semisync: a
// semisync option in a group this flavor does not read
// ([WarnGroupNotRead]), and a loose- option that looks like a semisync
// variable but is not one of this flavor's ([WarnUnknownLoose]). Options
// that are not semisync variables of any flavor are the server's business
// and never warned about: the registry cannot know which of them the
// server knows. With an error, the warnings are those of the lines before
// it.
func (r *Registry) ParseOptionFileWarnings(rd io.Reader, filename string) ([]Assignment, []Warning, error) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 4096), maxOptionLine)
	var (
		out      []Assignment
		warnings []Warning
		line     int
		inGroup  bool   // a group header has been seen
		reading  bool   // the current group is one this flavor reads
		group    string // the current group as written
	)
	fail := func(kind ErrorKind, name, value, detail string) ([]Assignment, []Warning, error) {
		return nil, warnings, newError(kind, name, value, detail).at(filename, line)
	}
	warn := func(kind WarningKind, option, detail string) {
		warnings = append(warnings, Warning{Kind: kind, File: filename, Line: line, Group: group, Option: option, Detail: detail})
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
				return fail(ErrUnsupported, "", "", "!"+strings.ToLower(word)+" is not supported; pass each file to LoadOptionFile")
			}
			return fail(ErrSyntax, "", "", "wrong '!' directive "+text)
		case text[0] == '[':
			end := strings.IndexByte(text, ']')
			if end < 0 {
				return fail(ErrSyntax, "", "", "wrong group definition "+text)
			}
			group = strings.TrimSpace(text[1:end])
			inGroup = true
			reading = containsFold(optionGroups[r.flavor], group)
			continue
		}
		if !inGroup {
			return fail(ErrSyntax, "", "", "option without preceding group")
		}
		o, err := splitOption(text)
		if !reading {
			// The server skips these lines unread: no syntax errors.
			if err == nil && isAnyVariable(o.name) {
				warn(WarnGroupNotRead, o.text(), r.groupDetail(group))
			}
			continue
		}
		if err != nil {
			return nil, warnings, err.at(filename, line)
		}
		a, ok, err := r.optionLine(o)
		if err != nil {
			return nil, warnings, err.at(filename, line)
		}
		if ok {
			a.File, a.Line = filename, line
			out = append(out, a)
		} else if o.loose && r.semisyncName(o.name) {
			warn(WarnUnknownLoose, o.text(), r.unknown(o.name).Detail)
		}
	}
	if err := sc.Err(); err != nil {
		line++
		if errors.Is(err, bufio.ErrTooLong) {
			return fail(ErrSyntax, "", "", "line longer than 1 MiB")
		}
		return nil, warnings, &readError{file: filename, err: err}
	}
	return out, warnings, nil
}

// groupDetail explains why group is not read: which groups the flavor's
// server reads, and that a version-suffixed group is read by that version
// of the server but not by this package.
func (r *Registry) groupDetail(group string) string {
	groups := optionGroups[r.flavor]
	list := ""
	for i, g := range groups {
		switch {
		case i == 0:
		case i == len(groups)-1:
			list += " and "
		default:
			list += ", "
		}
		list += "[" + g + "]"
	}
	detail := flavorDescriptions[r.flavor] + " servers read only " + list
	if base, version, ok := strings.Cut(group, "-"); ok && isVersion(version) &&
		(containsFold(groups, base) || strings.EqualFold(base, "mysqld") || strings.EqualFold(base, "mariadb")) {
		detail = "this package does not read version-suffixed groups (a server of that version would); " + detail
	}
	return detail
}

// isVersion reports whether s looks like a server version: digits and
// dots, starting with a digit.
func isVersion(s string) bool {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return false
	}
	for i := range len(s) {
		if (s[i] < '0' || s[i] > '9') && s[i] != '.' {
			return false
		}
	}
	return true
}

// readError reports an I/O error reading an option file.
type readError struct {
	file string
	err  error
}

func (e *readError) Error() string { return "vars: reading " + e.file + ": " + e.err.Error() }
func (e *readError) Unwrap() error { return e.err }

func containsFold(list []string, s string) bool { return indexFold(list, s) >= 0 }

// option is one option line, split: the name as written, the value, and
// the name as my_getopt reads it (lower case, '_' for '-', prefixes
// stripped).
type option struct {
	written, value string
	hasValue       bool
	name           string // the variable's name
	prefix         string // the prefix right before name: skip, disable, enable, maximum or ""
	loose          bool   // loose- appeared among the prefixes
}

// text renders the option as MySQL's parser sees it: "name" or
// "name=value".
func (o option) text() string {
	if o.hasValue {
		return o.written + "=" + o.value
	}
	return o.written
}

// splitOption splits an option line (comment removed).
func splitOption(text string) (o option, err *Error) {
	text = strings.TrimRightFunc(removeEndComment(text), isSpaceRune)
	written, value, hasValue := strings.Cut(text, "=")
	o.written, o.hasValue = strings.TrimSpace(written), hasValue
	if o.written == "" {
		return o, newError(ErrSyntax, "", "", "option without a name: "+text)
	}
	if hasValue {
		o.value = unquoteOption(strings.TrimSpace(value))
	}
	o.name = strings.ReplaceAll(strings.ToLower(o.written), "-", "_")
	// Strip prefixes as my_getopt does, one at a time. Only the prefix
	// right before the name decides the value (skip-loose-x ignores the
	// skip); loose- counts wherever it is.
	for stripped := true; stripped; {
		stripped = false
		for _, p := range optionPrefixes {
			if rest, found := strings.CutPrefix(o.name, p+"_"); found {
				o.name, o.prefix, stripped = rest, p, true
				o.loose = o.loose || p == "loose"
				break
			}
		}
	}
	if o.prefix == "loose" {
		o.prefix = ""
	}
	return o, nil
}

// optionLine reads one option of a group this flavor reads. ok is false
// for options that are not this flavor's variables and may be skipped.
func (r *Registry) optionLine(o option) (a Assignment, ok bool, err *Error) {
	written, value, hasValue, name, prefix := o.written, o.value, o.hasValue, o.name, o.prefix
	i, known := r.index[name]
	if !known {
		if containsFold(pluginOptions[r.flavor], name) || !r.semisyncName(name) || o.loose {
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
// them; other options are not ours. The plugin-activation options of this
// flavor are not variables.
func (r *Registry) semisyncName(name string) bool {
	if containsFold(pluginOptions[r.flavor], name) {
		return false
	}
	return strings.HasPrefix(name, "rpl_semi_sync") || isAnyVariable(name)
}

// isAnyVariable reports whether name (lower case, underscores) is a
// variable of any flavor.
func isAnyVariable(name string) bool {
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
