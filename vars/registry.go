package vars

import (
	"io"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/semisync-go/semisync"
)

// Option configures [NewRegistry].
type Option func(*options)

type options struct {
	cfg      *Config
	readOnly []string
}

// WithConfig sets the registry's initial values instead of the flavor's
// defaults. NewRegistry validates them with [Config.Validate].
func WithConfig(c Config) Option {
	return func(o *options) { o.cfg = &c }
}

// WithReadOnly pins the named variables (names of the registry's flavor):
// a host that cannot apply a variable at runtime, say a wait point fixed at
// startup, keeps it at its initial value. An assignment that would change a
// pinned variable fails with [ErrReadOnly]; one that assigns its current
// value is accepted, so mirroring a server or re-reading an option file that
// agrees with the pin works. Every semisync variable is dynamic in MySQL, so
// this is the only way ErrReadOnly arises. Unknown names make NewRegistry
// fail.
func WithReadOnly(names ...string) Option {
	return func(o *options) { o.readOnly = append(o.readOnly, names...) }
}

// snapshot is one published version of the values.
type snapshot struct {
	cfg     Config
	version uint64
}

type subscription struct {
	fn        func(prev, next Config)
	cancelled atomic.Bool
}

// Registry holds the live values of the semisync variables under one
// flavor's names. It is safe for concurrent use: readers never lock
// ([Registry.Config] is an atomic load), and writers (Apply, Exec,
// LoadOptionFile, ApplyRows) are serialised, each publishing all of its
// changes at once or none.
//
// Create one with [NewRegistry]; the zero Registry is not usable.
type Registry struct {
	flavor semisync.Flavor
	vars   []Var          // sorted by name in flavor
	index  map[string]int // lower-case name -> index in vars
	cur    atomic.Pointer[snapshot]
	subs   atomic.Pointer[[]*subscription]
	mu     sync.Mutex // held by writers while they validate, publish and notify
}

// NewRegistry returns a registry of flavor f's variables, at f's defaults
// unless [WithConfig] says otherwise. It fails with an *[Error] for an
// invalid flavor, an invalid initial Config or an unknown read-only name.
func NewRegistry(f semisync.Flavor, opts ...Option) (*Registry, error) {
	if !f.Valid() {
		return nil, newError(ErrUnsupported, "", "", "invalid flavor "+f.String())
	}
	var o options
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	cfg := Defaults(f)
	if o.cfg != nil {
		if err := o.cfg.Validate(f); err != nil {
			return nil, err
		}
		cfg = *o.cfg
	}
	r := &Registry{flavor: f, index: make(map[string]int)}
	for i := range defs {
		d := &defs[i]
		if d.names[f] != "" {
			r.vars = append(r.vars, Var{def: d, flavor: f, lim: d.limitsFor(f), dynamic: true})
		}
	}
	slices.SortFunc(r.vars, func(a, b Var) int { return strings.Compare(a.String(), b.String()) })
	for i := range r.vars {
		r.index[r.vars[i].String()] = i
	}
	for _, name := range o.readOnly {
		v, err := r.Lookup(name)
		if err != nil {
			return nil, err
		}
		v.dynamic = false
	}
	r.cur.Store(&snapshot{cfg: cfg})
	return r, nil
}

// Flavor returns the flavor whose names the registry uses.
func (r *Registry) Flavor() semisync.Flavor { return r.flavor }

// Config returns the current values. It is one atomic load and a struct
// copy: no lock, no allocation, safe on a commit's hot path. Values that
// belong together (one SET statement, one option file) are always seen
// together.
func (r *Registry) Config() Config { return r.cur.Load().cfg }

// Version returns a counter that increments each time an applied change
// alters at least one value; it starts at 0. Comparing versions tells a
// poller whether anything changed without comparing Configs.
func (r *Registry) Version() uint64 { return r.cur.Load().version }

// Lookup returns the variable with the given name in the registry's flavor,
// ignoring case. For a name of another flavor the *[Error]
// ([ErrUnknownVariable]) says whose name it is and, if this flavor has the
// variable, its name here.
func (r *Registry) Lookup(name string) (*Var, error) {
	if i, ok := r.index[strings.ToLower(name)]; ok {
		return &r.vars[i], nil
	}
	return nil, r.unknown(name)
}

// unknown builds the unknown-variable error for name, with a hint when
// name belongs to another flavor.
func (r *Registry) unknown(name string) *Error {
	e := newError(ErrUnknownVariable, name, "", "")
	lower := strings.ToLower(name)
	for i := range defs {
		d := &defs[i]
		var whose []string
		for f, n := range d.names {
			if n == lower && semisync.Flavor(f) != r.flavor {
				whose = append(whose, flavorDescriptions[f])
			}
		}
		if whose == nil {
			continue
		}
		e.Detail = "it is the " + strings.Join(whose, " and ") + " name; "
		if here := d.names[r.flavor]; here != "" {
			e.Detail += "this registry uses " + flavorDescriptions[r.flavor] + " names: " + here
		} else {
			e.Detail += flavorDescriptions[r.flavor] + " has no such variable"
		}
		break
	}
	return e
}

// Vars returns the registry's variables sorted by name.
func (r *Registry) Vars() []*Var {
	out := make([]*Var, len(r.vars))
	for i := range r.vars {
		out[i] = &r.vars[i]
	}
	return out
}

// Get returns the current value of the named variable, rendered as SHOW
// VARIABLES renders it.
func (r *Registry) Get(name string) (string, error) {
	v, err := r.Lookup(name)
	if err != nil {
		return "", err
	}
	cfg := r.Config()
	return v.def.render(v.def.get(&cfg)), nil
}

// Show returns the variables whose names match the SQL LIKE pattern
// (see [semisync.Like]; "%" matches all), sorted by name and rendered as
// MySQL's SHOW VARIABLES LIKE 'pattern' renders them. All rows come from one
// snapshot of the values.
func (r *Registry) Show(pattern string) []semisync.Row {
	cfg := r.Config()
	var rows []semisync.Row
	for i := range r.vars {
		v := &r.vars[i]
		if semisync.Like(v.String(), pattern) {
			rows = append(rows, semisync.Row{Name: v.String(), Value: v.def.render(v.def.get(&cfg))})
		}
	}
	return rows
}

// ParseSet parses a SET statement into assignments without resolving or
// applying them; see [Registry.Exec] for the syntax. Errors are *[Error]
// values of kind [ErrSyntax] or [ErrUnsupported].
func (r *Registry) ParseSet(stmt string) ([]Assignment, error) {
	return parseSet(stmt)
}

// Exec parses and applies one SET statement, for example
//
//	SET GLOBAL rpl_semi_sync_source_timeout = 5000, rpl_semi_sync_source_wait_point = 'AFTER_SYNC';
//
// It accepts SET GLOBAL and SET PERSIST (applied as GLOBAL; nothing is
// persisted), @@global.name and @@persist.name, = and :=, a scope keyword per
// item (which, as in MySQL, also applies to later items without one),
// backquoted names, string, integer and word values, DEFAULT, comments and
// an optional trailing semicolon. SESSION, LOCAL, @@session., @@name and a
// missing scope fail with [ErrGlobalOnly] (MySQL error 1229); PERSIST_ONLY,
// expressions, user variables and executable comments fail with
// [ErrUnsupported]. The statement is atomic: if any item fails, nothing
// changes.
func (r *Registry) Exec(stmt string) error {
	as, err := parseSet(stmt)
	if err != nil {
		return err
	}
	return r.Apply(as...)
}

// ApplyRows applies the name/value pairs of a live server's SHOW VARIABLES
// LIKE 'rpl_semi_sync%', so a proxy can mirror the server. Names must be of
// the registry's flavor; values are read as [FormText]. Like Apply it is
// atomic.
func (r *Registry) ApplyRows(rows []semisync.Row) error {
	as := make([]Assignment, len(rows))
	for i, row := range rows {
		as[i] = Assignment{Name: row.Name, Value: row.Value}
	}
	return r.Apply(as...)
}

// LoadOptionFile reads an option file with [Registry.ParseOptionFile] and
// applies its assignments at once: a file with any error changes nothing.
func (r *Registry) LoadOptionFile(rd io.Reader, filename string) error {
	as, err := r.ParseOptionFile(rd, filename)
	if err != nil {
		return err
	}
	return r.Apply(as...)
}

// LoadOptionFileWarnings is [Registry.LoadOptionFile] that also returns
// the warnings of [Registry.ParseOptionFileWarnings]: the semisync options
// it skipped. A host prints them before it starts, as MySQL prints its
// option warnings. With an error nothing is applied, and the warnings are
// those of the lines before the error.
func (r *Registry) LoadOptionFileWarnings(rd io.Reader, filename string) ([]Warning, error) {
	as, ws, err := r.ParseOptionFileWarnings(rd, filename)
	if err != nil {
		return ws, err
	}
	return ws, r.Apply(as...)
}

// Apply resolves and validates every assignment, then publishes the new
// values in one atomic swap: if any assignment fails, nothing changes and
// the error is that of the first failing assignment (unknown names are
// reported before any other error, as MySQL resolves every name before it
// checks any value). Later assignments to the same variable win.
//
// If the values changed, Apply increments the version and calls the
// [Registry.OnChange] functions before it returns. Assigning values equal
// to the current ones is not a change: no version, no calls.
func (r *Registry) Apply(as ...Assignment) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	vs := make([]*Var, len(as))
	for i, a := range as {
		v, err := r.Lookup(a.Name)
		if err != nil {
			return locate(err, a)
		}
		vs[i] = v
	}
	cur := r.cur.Load()
	next := cur.cfg
	for i, a := range as {
		v := vs[i]
		if a.Scope == ScopeSession {
			return newError(ErrGlobalOnly, v.String(), a.Value, "").at(a.File, a.Line)
		}
		if a.Scope == ScopePersist && r.flavor == semisync.FlavorMariaDB {
			return newError(ErrSyntax, v.String(), a.Value, "MariaDB has no SET PERSIST; use SET GLOBAL").at(a.File, a.Line)
		}
		raw, err := parseValue(v, a)
		if err != nil {
			return locate(err, a)
		}
		if !v.dynamic && raw != v.def.get(&cur.cfg) {
			return newError(ErrReadOnly, v.String(), v.def.render(raw), "").at(a.File, a.Line)
		}
		v.def.set(&next, raw)
	}
	if next == cur.cfg {
		return nil
	}
	r.cur.Store(&snapshot{cfg: next, version: cur.version + 1})
	if subs := r.subs.Load(); subs != nil {
		for _, s := range *subs {
			if !s.cancelled.Load() {
				s.fn(cur.cfg, next)
			}
		}
	}
	return nil
}

// locate adds a's option-file location to err.
func locate(err error, a Assignment) error {
	if e, ok := err.(*Error); ok {
		return e.at(a.File, a.Line)
	}
	return err
}

// OnChange registers fn to be called after every change of the values with
// the values before and after it. fn runs synchronously on the goroutine
// that applied the change, after the new values are visible to
// [Registry.Config], while the registry's write lock is held: calls come in
// the order of the changes, one at a time, as MySQL runs its variables'
// update functions under a global lock. Functions run in registration
// order.
//
// fn must be quick, and it must not call Apply, Exec, ApplyRows or
// LoadOptionFile on the same registry: that would deadlock. It may read the
// registry, register other functions and call any cancel function.
//
// cancel unregisters fn; it is idempotent. Once cancel returns, fn is not
// called for later changes (a call already running on another goroutine
// finishes).
func (r *Registry) OnChange(fn func(prev, next Config)) (cancel func()) {
	if fn == nil {
		return func() {}
	}
	s := &subscription{fn: fn}
	r.updateSubs(func(old []*subscription) []*subscription { return append(slices.Clone(old), s) })
	return func() {
		if s.cancelled.Swap(true) {
			return
		}
		r.updateSubs(func(old []*subscription) []*subscription {
			return slices.DeleteFunc(slices.Clone(old), func(x *subscription) bool { return x == s })
		})
	}
}

// updateSubs replaces the subscription list copy-on-write, without the
// write lock, so OnChange and cancel work from inside a callback.
func (r *Registry) updateSubs(edit func([]*subscription) []*subscription) {
	for {
		old := r.subs.Load()
		var cur []*subscription
		if old != nil {
			cur = *old
		}
		next := edit(cur)
		if r.subs.CompareAndSwap(old, &next) {
			return
		}
	}
}
