package site

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

// EnvPrefix starts every environment variable that overrides a site key:
// exchange.rtp.start is KURODENWA_EXCHANGE_RTP_START, the password of
// extension blackphone is KURODENWA_EXTENSIONS_BLACKPHONE_PASSWORD.
const EnvPrefix = "KURODENWA"

// Options are the outside world a load may touch; tests replace them.
type Options struct {
	// LookupEnv reads an environment variable (default os.LookupEnv).
	LookupEnv func(string) (string, bool)
	// ReadSecretFile reads a *_file secret (default: os.ReadFile, refusing
	// files that others may read).
	ReadSecretFile func(string) ([]byte, error)
}

func (o Options) withDefaults() Options {
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if o.ReadSecretFile == nil {
		o.ReadSecretFile = readPrivateFile
	}
	return o
}

// EnvName is the environment variable that overrides a site key.
func EnvName(key string) string {
	r := strings.NewReplacer(".", "_", "-", "_")
	return EnvPrefix + "_" + strings.ToUpper(r.Replace(key))
}

// Load reads a site file, applies defaults and environment overrides,
// resolves secrets and validates the result. Every problem found is
// reported, each naming its key.
func Load(path string, opts Options) (*Site, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read site file: %w", err)
	}
	return Parse(data, path, opts)
}

// Parse is Load on bytes already read; name is used in messages.
func Parse(data []byte, name string, opts Options) (*Site, error) {
	opts = opts.withDefaults()
	v := viper.New()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(strings.NewReader(string(data))); err != nil {
		return nil, fmt.Errorf("%s: not a valid YAML site file: %w", name, err)
	}
	var probs Problems
	sections, unknown := unknownKeys(v)
	for _, k := range sections {
		probs.add(k, "must be a mapping of keys, not a single value")
	}
	for _, k := range unknown {
		probs.add(k, "unknown key")
	}
	for _, k := range secretKeys(v) {
		if v.InConfig(k) {
			probs.add(k, fmt.Sprintf("secrets must not be written in the site file; set %s or %s_file", EnvName(k), k))
		}
	}
	if len(probs) > 0 {
		return nil, probs.err(name)
	}
	for k, val := range defaults() {
		v.SetDefault(k, val)
	}
	// Environment last, so it overrides file and defaults alike.
	for _, k := range leafKeys(v) {
		if val, ok := opts.LookupEnv(EnvName(k)); ok {
			v.Set(k, val)
		}
	}
	var s Site
	err := v.Unmarshal(&s, viper.DecodeHook(mapstructure.ComposeDecodeHookFunc(
		mapstructure.StringToTimeDurationHookFunc(),
		mapstructure.StringToSliceHookFunc(","),
	)))
	if err != nil {
		return nil, decodeProblems(err).err(name)
	}
	s.normalize(v)
	probs = append(probs, s.resolveSecrets(opts)...)
	probs = append(probs, s.validate()...)
	if len(probs) > 0 {
		return nil, probs.err(name)
	}
	return &s, nil
}

// decodeProblems turns mapstructure's joined type errors into one problem
// per key, named the way a user writes it.
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
			probs.add(de.Name(), "wrong type: "+msg)
			return
		}
		probs.add("(file)", err.Error())
	}
	walk(err)
	return probs
}

// readPrivateFile reads a secret file, refusing one that group or others
// may read: such a secret is not secret.
func readPrivateFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%s has mode %v; make it readable by its owner only (chmod 600)", path, st.Mode().Perm())
	}
	return os.ReadFile(path)
}

// schemaNode is one level of the keys the Site type accepts: struct fields
// by name, or (for a map) any name. A level is never both.
type schemaNode struct {
	fields   map[string]*schemaNode
	anyName  *schemaNode
	leaf     bool
	typeName string
}

func buildSchema(t reflect.Type) *schemaNode {
	switch t.Kind() {
	case reflect.Struct:
		n := &schemaNode{fields: map[string]*schemaNode{}}
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("mapstructure")
			if tag == "" || tag == "-" {
				continue
			}
			n.fields[tag] = buildSchema(f.Type)
		}
		return n
	case reflect.Map:
		return &schemaNode{anyName: buildSchema(t.Elem())}
	default:
		return &schemaNode{leaf: true, typeName: t.String()}
	}
}

// lookup walks a dotted key down the schema; linear in the key's length.
func (n *schemaNode) lookup(key string) *schemaNode {
	for _, part := range strings.Split(key, ".") {
		switch {
		case n.fields != nil:
			n = n.fields[part]
		case n.anyName != nil:
			n = n.anyName
		default:
			return nil
		}
		if n == nil {
			return nil
		}
	}
	return n
}

// schemaKeys lists the keys the Site type accepts, a map level written "*".
func schemaKeys() map[string]bool {
	keys := map[string]bool{}
	var walk func(n *schemaNode, prefix string)
	walk = func(n *schemaNode, prefix string) {
		switch {
		case n.leaf:
			keys[prefix] = true
		case n.anyName != nil:
			walk(n.anyName, join(prefix, "*"))
		default:
			for name, c := range n.fields {
				walk(c, join(prefix, name))
			}
		}
	}
	walk(buildSchema(reflect.TypeFor[Site]()), "")
	return keys
}

func join(prefix, k string) string {
	if prefix == "" {
		return k
	}
	return prefix + "." + k
}

// unknownKeys sorts the file's keys the Site type does not have into
// misplaced values (a scalar where a mapping belongs) and unknown keys.
func unknownKeys(v *viper.Viper) (sections, unknown []string) {
	root := buildSchema(reflect.TypeFor[Site]())
	for _, k := range v.AllKeys() {
		switch n := root.lookup(k); {
		case n == nil:
			unknown = append(unknown, k)
		case !n.leaf:
			sections = append(sections, k)
		}
	}
	sort.Strings(sections)
	sort.Strings(unknown)
	return sections, unknown
}

// leafKeys lists every key an environment variable may set: the schema's
// keys with each map level expanded to the names the file (or defaults)
// declare there. Map entries themselves are declared in the file.
func leafKeys(v *viper.Viper) []string {
	var out []string
	for k := range schemaKeys() {
		out = append(out, expand(v, strings.Split(k, "."), "")...)
	}
	sort.Strings(out)
	return out
}

func expand(v *viper.Viper, parts []string, acc string) []string {
	if len(parts) == 0 {
		return []string{acc}
	}
	if parts[0] != "*" {
		return expand(v, parts[1:], join(acc, parts[0]))
	}
	var out []string
	for name := range v.GetStringMap(acc) {
		out = append(out, expand(v, parts[1:], join(acc, name))...)
	}
	return out
}

// secretKeys lists the secret keys present in the schema for the names the
// file declares.
func secretKeys(v *viper.Viper) []string {
	var out []string
	for _, k := range leafKeys(v) {
		if strings.HasSuffix(k, ".password") {
			out = append(out, k)
		}
	}
	return out
}

// Problem is one thing wrong with a site file.
type Problem struct {
	Key string
	Msg string
}

// Problems is every problem found in one site file.
type Problems []Problem

func (p *Problems) add(key, msg string) { *p = append(*p, Problem{Key: key, Msg: msg}) }

func (p *Problems) addf(key, format string, args ...any) { p.add(key, fmt.Sprintf(format, args...)) }

func (p Problems) err(name string) error {
	sort.SliceStable(p, func(i, j int) bool { return p[i].Key < p[j].Key })
	return &InvalidError{File: name, Problems: p}
}

// InvalidError lists what is wrong with a site file, one line a problem.
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
