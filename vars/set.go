package vars

import (
	"strings"
)

// Scope is the scope an [Assignment] was written with.
type Scope uint8

const (
	// ScopeGlobal: SET GLOBAL, @@global., or no scope at all in an
	// assignment a host builds or an option file makes. The zero Scope.
	ScopeGlobal Scope = iota
	// ScopePersist: SET PERSIST or @@persist. MySQL would also write the
	// value to mysqld-auto.cnf; this package applies it as GLOBAL and
	// persists nothing.
	ScopePersist
	// ScopeSession: SET SESSION, SET LOCAL, @@session., @@local., or a SET
	// item with neither a scope keyword before it nor @@global. Every
	// semisync variable is GLOBAL only, so applying it fails with
	// [ErrGlobalOnly] (MySQL error 1229).
	ScopeSession
)

var scopeNames = [...]string{"GLOBAL", "PERSIST", "SESSION"}

// String returns "GLOBAL", "PERSIST" or "SESSION".
func (s Scope) String() string {
	return enumName(scopeNames[:], s, "Scope")
}

// Assignment is one variable assignment as written: an item of a SET
// statement, an option-file line, a row of SHOW VARIABLES, or one a host
// builds. [Registry.Apply] resolves and validates it.
type Assignment struct {
	// Name is the variable's name as written (without backquotes). Option
	// files yield the canonical name, with prefixes such as loose- removed
	// and dashes turned into underscores.
	Name string
	// Value is the value as written, without quotes and with escape
	// sequences resolved. Empty when Default is set.
	Value string
	// Default is set for SET ... = DEFAULT: the variable's default in the
	// registry's flavor.
	Default bool
	// Form says how Value was written; the zero value, FormText, suits
	// values a host or a server's SHOW output provides.
	Form Form
	// Scope is the scope the SET statement gave the item.
	Scope Scope
	// File and Line locate an option-file line; errors about the
	// assignment carry them.
	File string
	Line int
}

type tokKind uint8

const (
	tEOF     tokKind = iota
	tWord            // unquoted identifier or keyword
	tQuoted          // `backquoted identifier`
	tString          // 'string' or "string"
	tInt             // 123
	tDecimal         // 1.5, 1e3, .5
	tAtAt            // @@
	tAt              // @
	tDot             // .
	tEq              // =
	tAssign          // :=
	tComma           // ,
	tSemi            // ;
	tMinus           // -
	tPlus            // +
	tLParen          // (
	tOp              // any other operator character
)

type token struct {
	kind tokKind
	text string // the identifier, the unescaped string, the number
	pos  int    // byte offset in the statement
}

// lexer splits a SET statement into tokens the way MySQL's lexer does, for
// the subset of SQL a SET of system variables needs.
type lexer struct {
	src string
	pos int
}

func (l *lexer) syntaxError(pos int, detail string) *Error {
	return syntaxAt(l.src, pos, detail)
}

// syntaxAt is a MySQL-style syntax error: what went wrong, near the rest of
// the statement, at the line of pos.
func syntaxAt(src string, pos int, detail string) *Error {
	e := newError(ErrSyntax, "", "", detail)
	e.Line = 1 + strings.Count(src[:pos], "\n")
	if pos < len(src) {
		near := src[pos:]
		if len(near) > 64 {
			near = near[:64] + "..."
		}
		if e.Detail != "" {
			e.Detail += "; "
		}
		e.Detail += "near '" + near + "'"
	}
	return e
}

// unsupportedAt is like syntaxAt for valid SQL this package does not
// implement.
func unsupportedAt(src string, pos int, detail string) *Error {
	e := syntaxAt(src, pos, "")
	e.Kind, e.Code = ErrUnsupported, ErrUnsupported.Code()
	if e.Detail != "" {
		detail += "; " + e.Detail
	}
	e.Detail = detail
	return e
}

// skipSpace skips whitespace and comments: /* ... */, # to end of line and
// "-- " to end of line. MySQL runs the body of a /*! ... */ comment, so
// such a comment is unsupported rather than skipped.
func (l *lexer) skipSpace() error {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case isSpace(c):
			l.pos++
		case c == '#' || strings.HasPrefix(l.src[l.pos:], "--") &&
			(l.pos+2 == len(l.src) || isSpace(l.src[l.pos+2])):
			if i := strings.IndexByte(l.src[l.pos:], '\n'); i >= 0 {
				l.pos += i + 1
			} else {
				l.pos = len(l.src)
			}
		case strings.HasPrefix(l.src[l.pos:], "/*"):
			if strings.HasPrefix(l.src[l.pos:], "/*!") {
				return unsupportedAt(l.src, l.pos, "executable comments /*! ... */ are not supported")
			}
			end := strings.Index(l.src[l.pos+2:], "*/")
			if end < 0 {
				return l.syntaxError(l.pos, "unterminated comment")
			}
			l.pos += 2 + end + 2
		default:
			return nil
		}
	}
	return nil
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isIdentByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
		c == '_' || c == '$' || c >= 0x80
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// next returns the next token.
func (l *lexer) next() (token, error) {
	if err := l.skipSpace(); err != nil {
		return token{}, err
	}
	start := l.pos
	if l.pos >= len(l.src) {
		return token{kind: tEOF, pos: start}, nil
	}
	c := l.src[l.pos]
	switch {
	case c == '@':
		if strings.HasPrefix(l.src[l.pos:], "@@") {
			l.pos += 2
			return token{kind: tAtAt, pos: start}, nil
		}
		l.pos++
		return token{kind: tAt, pos: start}, nil
	case c == ':' && strings.HasPrefix(l.src[l.pos:], ":="):
		l.pos += 2
		return token{kind: tAssign, pos: start}, nil
	case c == '\'' || c == '"':
		s, err := l.quoted(c)
		return token{kind: tString, text: s, pos: start}, err
	case c == '`':
		s, err := l.quoted(c)
		return token{kind: tQuoted, text: s, pos: start}, err
	case isDigit(c) || c == '.' && l.pos+1 < len(l.src) && isDigit(l.src[l.pos+1]):
		return l.number()
	case isIdentByte(c):
		for l.pos < len(l.src) && isIdentByte(l.src[l.pos]) {
			l.pos++
		}
		return token{kind: tWord, text: l.src[start:l.pos], pos: start}, nil
	}
	l.pos++
	if k, ok := punctuation[c]; ok {
		return token{kind: k, text: string(c), pos: start}, nil
	}
	return token{kind: tOp, text: string(c), pos: start}, nil
}

// punctuation maps single-byte tokens to their kinds; other operator bytes
// are tOp.
var punctuation = map[byte]tokKind{'.': tDot, '=': tEq, ',': tComma, ';': tSemi, '-': tMinus, '+': tPlus, '(': tLParen}

// number lexes an integer or decimal literal. A run of digits followed by
// identifier characters is an identifier in MySQL (10K, 1abc); 0x1F and
// 0b101 are hexadecimal and bit literals, which are not supported.
func (l *lexer) number() (token, error) {
	start := l.pos
	src := l.src
	if strings.HasPrefix(src[l.pos:], "0x") || strings.HasPrefix(src[l.pos:], "0b") {
		return token{}, unsupportedAt(src, start, "hexadecimal and bit literals are not supported")
	}
	for l.pos < len(src) && isDigit(src[l.pos]) {
		l.pos++
	}
	kind := tInt
	if l.pos < len(src) && src[l.pos] == '.' {
		kind = tDecimal
		l.pos++
		for l.pos < len(src) && isDigit(src[l.pos]) {
			l.pos++
		}
	}
	if l.pos < len(src) && (src[l.pos] == 'e' || src[l.pos] == 'E') {
		p := l.pos + 1
		if p < len(src) && (src[p] == '+' || src[p] == '-') {
			p++
		}
		if p < len(src) && isDigit(src[p]) {
			kind = tDecimal
			for l.pos = p; l.pos < len(src) && isDigit(src[l.pos]); l.pos++ {
			}
		}
	}
	if kind == tInt && l.pos < len(src) && isIdentByte(src[l.pos]) {
		for l.pos < len(src) && isIdentByte(src[l.pos]) {
			l.pos++
		}
		return token{kind: tWord, text: src[start:l.pos], pos: start}, nil
	}
	return token{kind: kind, text: src[start:l.pos], pos: start}, nil
}

// stringEscapes are MySQL's backslash escapes in string literals; any other
// escaped character stands for itself.
var stringEscapes = map[byte]byte{'0': 0, 'b': '\b', 'n': '\n', 'r': '\r', 't': '\t', 'Z': 0x1a}

// quoted lexes a literal quoted with q: a doubled q stands for q, and in
// strings (not backquoted identifiers) a backslash escapes the next byte.
func (l *lexer) quoted(q byte) (string, error) {
	start := l.pos
	l.pos++
	// Fast path: no escapes, no doubled quotes.
	if end := strings.IndexByte(l.src[l.pos:], q); end >= 0 {
		body := l.src[l.pos : l.pos+end]
		next := l.pos + end + 1
		if !strings.ContainsRune(body, '\\') && (next >= len(l.src) || l.src[next] != q) {
			l.pos = next
			return body, nil
		}
	}
	var b strings.Builder
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case c == q:
			if l.pos+1 < len(l.src) && l.src[l.pos+1] == q {
				b.WriteByte(q)
				l.pos += 2
				continue
			}
			l.pos++
			return b.String(), nil
		case c == '\\' && q != '`' && l.pos+1 < len(l.src):
			e := l.src[l.pos+1]
			if r, ok := stringEscapes[e]; ok {
				e = r
			}
			b.WriteByte(e)
			l.pos += 2
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
	if q == '`' {
		return "", l.syntaxError(start, "unterminated quoted identifier")
	}
	return "", l.syntaxError(start, "unterminated string")
}

// parser reads one SET statement with one token of lookahead.
type parser struct {
	lex     lexer
	tok     token
	peek    token
	hasPeek bool
}

func (p *parser) advance() error {
	if p.hasPeek {
		p.tok, p.hasPeek = p.peek, false
		return nil
	}
	t, err := p.lex.next()
	p.tok = t
	return err
}

func (p *parser) lookahead() (token, error) {
	if !p.hasPeek {
		t, err := p.lex.next()
		if err != nil {
			return token{}, err
		}
		p.peek, p.hasPeek = t, true
	}
	return p.peek, nil
}

func (p *parser) syntaxError(detail string) *Error { return syntaxAt(p.lex.src, p.tok.pos, detail) }

func (p *parser) unsupported(detail string) *Error {
	return unsupportedAt(p.lex.src, p.tok.pos, detail)
}

func (p *parser) isWord(w string) bool {
	return p.tok.kind == tWord && strings.EqualFold(p.tok.text, w)
}

// scopeKeyword maps the scope keywords of SET to scopes; PERSIST_ONLY is
// handled separately because it is unsupported.
var scopeKeywords = map[string]Scope{
	"GLOBAL": ScopeGlobal, "PERSIST": ScopePersist, "SESSION": ScopeSession, "LOCAL": ScopeSession,
}

// parseSet parses a statement of the form
//
//	SET [scope] item [, [scope] item]... [;]
//	item: name {= | :=} value | @@[scope.]name {= | :=} value
//
// A scope keyword applies to its item and to later items without one, as
// in MySQL; @@scope. qualifies only its own item, and @@name without one is
// SESSION.
func parseSet(stmt string) ([]Assignment, error) {
	p := &parser{lex: lexer{src: stmt}}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if !p.isWord("SET") {
		return nil, p.syntaxError("expected SET")
	}
	if err := p.advance(); err != nil {
		return nil, err
	}
	var out []Assignment
	scope := ScopeSession // MySQL's default scope for SET
	for {
		a, err := p.item(&scope)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
		switch p.tok.kind {
		case tComma:
			if err := p.advance(); err != nil {
				return nil, err
			}
			continue
		case tSemi:
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.tok.kind != tEOF {
				return nil, p.syntaxError("only one statement is allowed")
			}
			return out, nil
		case tEOF:
			return out, nil
		}
		return nil, p.afterValueError()
	}
}

// afterValueError explains a token that follows a complete value: an
// operator or function call means an expression, anything else a plain
// syntax error.
func (p *parser) afterValueError() *Error {
	switch p.tok.kind {
	case tWord:
		switch strings.ToUpper(p.tok.text) {
		case "AND", "OR", "XOR", "NOT", "DIV", "MOD", "IS", "LIKE", "REGEXP", "BETWEEN", "IN", "COLLATE":
			return p.unsupported("expressions are not supported; write a literal value")
		}
	case tOp, tMinus, tPlus, tLParen, tDot, tEq, tAt, tAtAt, tAssign:
		return p.unsupported("expressions are not supported; write a literal value")
	}
	return p.syntaxError("expected ',' or the end of the statement")
}

// item parses one assignment; *scope is the statement's current scope,
// which a scope keyword changes for this and later items.
func (p *parser) item(scope *Scope) (Assignment, error) {
	var a Assignment
	switch {
	case p.tok.kind == tWord:
		kw := strings.ToUpper(p.tok.text)
		nt, err := p.lookahead()
		if err != nil {
			return a, err
		}
		isName := nt.kind == tEq || nt.kind == tAssign // SET global = 1 names a variable "global"
		if kw == "PERSIST_ONLY" && !isName {
			return a, p.unsupported("SET PERSIST_ONLY is not supported (nothing is persisted)")
		}
		if s, ok := scopeKeywords[kw]; ok && !isName {
			*scope = s
			if err := p.advance(); err != nil {
				return a, err
			}
			if p.tok.kind != tWord && p.tok.kind != tQuoted {
				return a, p.syntaxError("expected a variable name after " + kw)
			}
		}
		a.Scope = *scope
	case p.tok.kind == tQuoted:
		a.Scope = *scope
	case p.tok.kind == tAtAt:
		if err := p.advance(); err != nil {
			return a, err
		}
		s, err := p.qualifier()
		if err != nil {
			return a, err
		}
		a.Scope = s
	case p.tok.kind == tAt:
		return a, p.unsupported("user variables are not supported; only system variables can be set")
	default:
		return a, p.syntaxError("expected a variable name")
	}
	if p.tok.kind != tWord && p.tok.kind != tQuoted {
		return a, p.syntaxError("expected a variable name")
	}
	a.Name = p.tok.text
	if err := p.advance(); err != nil {
		return a, err
	}
	if p.tok.kind == tDot {
		return a, p.syntaxError("structured variable names are not semisync variables")
	}
	if p.tok.kind != tEq && p.tok.kind != tAssign {
		return a, p.syntaxError("expected '=' or ':=' after " + a.Name)
	}
	if err := p.advance(); err != nil {
		return a, err
	}
	return a, p.value(&a)
}

// qualifier parses the optional "scope." after @@, leaving p.tok on the
// variable name.
func (p *parser) qualifier() (Scope, error) {
	if p.tok.kind != tWord {
		return ScopeSession, nil
	}
	nt, err := p.lookahead()
	if err != nil || nt.kind != tDot {
		return ScopeSession, err
	}
	kw := strings.ToUpper(p.tok.text)
	s, ok := scopeKeywords[kw]
	if kw == "PERSIST_ONLY" {
		return 0, p.unsupported("SET @@persist_only is not supported (nothing is persisted)")
	}
	if !ok {
		return 0, p.syntaxError("unknown scope " + p.tok.text)
	}
	if err := p.advance(); err != nil { // the scope
		return 0, err
	}
	return s, p.advance() // the dot
}

// value parses the right-hand side of an item into a, leaving p.tok on the
// token after it.
func (p *parser) value(a *Assignment) error {
	t := p.tok
	switch t.kind {
	case tWord:
		nt, err := p.lookahead()
		if err != nil {
			return err
		}
		if nt.kind == tLParen {
			return p.unsupported("function calls are not supported; write a literal value")
		}
		switch {
		case strings.EqualFold(t.text, "DEFAULT"):
			a.Default = true
		case strings.EqualFold(t.text, "TRUE"):
			a.Value, a.Form = "1", FormInt // MySQL's literal for 1
		case strings.EqualFold(t.text, "FALSE"):
			a.Value, a.Form = "0", FormInt
		default:
			a.Value, a.Form = t.text, FormWord
		}
	case tQuoted:
		// A backquoted word is a name, never a keyword: `TRUE` is the
		// name TRUE, not the integer 1.
		a.Value, a.Form = t.text, FormWord
	case tString:
		// Adjacent string literals concatenate, as in MySQL.
		var b strings.Builder
		for p.tok.kind == tString {
			b.WriteString(p.tok.text)
			if err := p.advance(); err != nil {
				return err
			}
		}
		a.Value, a.Form = b.String(), FormString
		return nil
	case tMinus, tPlus:
		if err := p.advance(); err != nil {
			return err
		}
		if p.tok.kind != tInt && p.tok.kind != tDecimal {
			return p.unsupported("expressions are not supported; write a literal value")
		}
		a.Value, a.Form = p.tok.text, FormInt
		if p.tok.kind == tDecimal {
			a.Form = FormDecimal
		}
		if t.kind == tMinus {
			a.Value = "-" + a.Value
		}
	case tInt:
		a.Value, a.Form = t.text, FormInt
	case tDecimal:
		a.Value, a.Form = t.text, FormDecimal
	case tEOF, tComma, tSemi:
		return p.syntaxError("missing value")
	default:
		return p.unsupported("expressions are not supported; write a literal value")
	}
	return p.advance()
}
