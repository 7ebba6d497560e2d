// Package confkit loads kurodenwa's YAML configuration files the same way
// everywhere: viper for YAML, every key overridable by a KURODENWA_…
// environment variable, secrets kept out of the file, unknown keys and
// wrong types reported one problem per key. internal/site follows the same
// rules with its own copy; the telephone Pi's config uses this package.
package confkit

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"sort"
	"strings"

	"github.com/go-viper/mapstructure/v2"
	"github.com/spf13/viper"
)

// EnvPrefix starts every environment variable that overrides a key.
const EnvPrefix = "KURODENWA"

// EnvName is the environment variable for key: sip.password is
// KURODENWA_SIP_PASSWORD.
func EnvName(key string) string {
	r := strings.NewReplacer(".", "_", "-", "_")
	return EnvPrefix + "_" + strings.ToUpper(r.Replace(key))
}

// Options are the outside world a load may touch; tests replace them.
type Options struct {
	// LookupEnv reads an environment variable (default os.LookupEnv).
	LookupEnv func(string) (string, bool)
	// ReadSecretFile reads a *_file secret (default ReadPrivateFile).
	ReadSecretFile func(string) ([]byte, error)
}

// WithDefaults fills the unset fields.
func (o Options) WithDefaults() Options {
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if o.ReadSecretFile == nil {
		o.ReadSecretFile = ReadPrivateFile
	}
	return o
}

// ReadPrivateFile reads a secret file, refusing one that group or others
// may read: such a secret is not secret.
func ReadPrivateFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %v; make it readable by its owner only (chmod 600)", path, st.Mode().Perm())
	}
	return os.ReadFile(path)
}

// Spec describes a config type's loading.
type Spec struct {
	// Defaults by dotted key.
	Defaults map[string]any
	// Secret reports whether a key holds a secret that must not be
	// written in the file (only its environment variable or key_file).
	Secret func(key string) bool
}

// Decode parses YAML into a T (whose fields carry mapstructure tags),
// applying defaults and then environment overrides. It returns every
// problem found, each naming its key; T is nil when there are any.
func Decode[T any](data []byte, spec Spec, opts Options) (*T, Problems) {
	out, _, probs := DecodeWith[T](data, spec, opts)
	return out, probs
}

// Loaded tells what a decoded file said, for defaults that depend on it.
type Loaded struct{ v *viper.Viper }

// IsSet reports whether the file, a default or the environment set key.
func (l Loaded) IsSet(key string) bool { return l.v != nil && l.v.IsSet(key) }

// DecodeWith is Decode that also returns what was set. Map levels of T
// (map[string]struct) take any entry name; the environment can override
// the keys of entries the file declares, not add entries.
func DecodeWith[T any](data []byte, spec Spec, opts Options) (*T, Loaded, Problems) {
	opts = opts.WithDefaults()
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(strings.NewReader(string(data))); err != nil {
		return nil, Loaded{}, Problems{{Key: "(file)", Msg: "not valid YAML: " + err.Error()}}
	}
	root := buildSchema(reflect.TypeFor[T]())
	var probs Problems
	for _, k := range v.AllKeys() {
		switch n := root.lookup(k); {
		case n == nil:
			probs.Add(k, "unknown key")
		case !n.leaf:
			probs.Add(k, "must be a mapping of keys, not a single value")
		case spec.Secret != nil && spec.Secret(k):
			probs.Addf(k, "secrets must not be written in the file; set %s or %s_file", EnvName(k), k)
		}
	}
	if len(probs) > 0 {
		return nil, Loaded{}, probs.Sorted()
	}
	for k, val := range spec.Defaults {
		v.SetDefault(k, val)
	}
	for _, k := range root.leaves(v, "") {
		if val, ok := opts.LookupEnv(EnvName(k)); ok {
			v.Set(k, val)
		}
	}
	var out T
	err := v.Unmarshal(&out, viper.DecodeHook(mapstructure.ComposeDecodeHookFunc(
		mapstructure.StringToTimeDurationHookFunc(),
		mapstructure.StringToSliceHookFunc(","),
	)))
	if err != nil {
		return nil, Loaded{}, decodeProblems(err).Sorted()
	}
	return &out, Loaded{v: v}, nil
}

// decodeProblems turns mapstructure's joined errors into one per key.
func decodeProblems(err error) Problems {
	var probs Problems
	var walk func(error)
	walk = func(err error) {
		if j, ok := err.(interface{ Unwrap() []error }); ok {
			for _, e := range j.Unwrap() {
				walk(e)
			}
			return
		}
		var de *mapstructure.DecodeError
		if errors.As(err, &de) {
			msg := de.Unwrap().Error()
			var pe *mapstructure.ParseError
			if errors.As(err, &pe) {
				msg = fmt.Sprintf("%q is not a valid %s", fmt.Sprint(pe.Value), pe.Expected.Type())
			}
			probs.Add(de.Name(), "wrong type: "+msg)
			return
		}
		probs.Add("(file)", err.Error())
	}
	walk(err)
	return probs
}

// schema is the key tree of a struct type: struct fields by name, or (for a
// map) any name. A level is never both.
type schema struct {
	fields  map[string]*schema
	anyName *schema
	leaf    bool
}

func buildSchema(t reflect.Type) *schema {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t.Kind() == reflect.Map && t.Elem().Kind() == reflect.Struct:
		return &schema{anyName: buildSchema(t.Elem())}
	case t.Kind() == reflect.Map:
		return &schema{anyName: &schema{leaf: true}}
	case t.Kind() != reflect.Struct:
		return &schema{leaf: true}
	}
	n := &schema{fields: map[string]*schema{}}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("mapstructure")
		if tag == "" || tag == "-" {
			continue
		}
		n.fields[tag] = buildSchema(f.Type)
	}
	return n
}

// lookup walks a dotted key down the schema; linear in the key's length.
func (n *schema) lookup(key string) *schema {
	for _, part := range strings.Split(key, ".") {
		switch {
		case n.leaf:
			return nil
		case n.anyName != nil:
			n = n.anyName
		default:
			n = n.fields[part]
		}
		if n == nil {
			return nil
		}
	}
	return n
}

// leaves lists every key an environment variable may set, expanding each
// map level to the entry names v holds there.
func (n *schema) leaves(v *viper.Viper, prefix string) []string {
	join := func(k string) string {
		if prefix == "" {
			return k
		}
		return prefix + "." + k
	}
	var out []string
	switch {
	case n.leaf:
		return []string{prefix}
	case n.anyName != nil:
		for name := range v.GetStringMap(prefix) {
			out = append(out, n.anyName.leaves(v, join(name))...)
		}
	default:
		for name, c := range n.fields {
			out = append(out, c.leaves(v, join(name))...)
		}
	}
	sort.Strings(out)
	return out
}

// Problem is one thing wrong with a file.
type Problem struct {
	Key string
	Msg string
}

// Problems is every problem found in one file.
type Problems []Problem

// Add records a problem with key.
func (p *Problems) Add(key, msg string) { *p = append(*p, Problem{Key: key, Msg: msg}) }

// Addf records a formatted problem with key.
func (p *Problems) Addf(key, format string, args ...any) { p.Add(key, fmt.Sprintf(format, args...)) }

// Sorted returns the problems ordered by key (stable).
func (p Problems) Sorted() Problems {
	sort.SliceStable(p, func(i, j int) bool { return p[i].Key < p[j].Key })
	return p
}

// Err returns nil for no problems, else an *InvalidError for file name.
func (p Problems) Err(name string) error {
	if len(p) == 0 {
		return nil
	}
	return &InvalidError{File: name, Problems: p.Sorted()}
}

// InvalidError lists what is wrong with a file, one line a problem.
type InvalidError struct {
	File     string
	Problems Problems
}

func (e *InvalidError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d problem(s):", e.File, len(e.Problems))
	for _, p := range e.Problems {
		fmt.Fprintf(&b, "\n  %s: %s", p.Key, p.Msg)
	}
	return b.String()
}
