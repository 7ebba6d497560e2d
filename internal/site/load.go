package site

import (
	"fmt"
	"os"
	"strings"

	"github.com/kurodenwa/kurodenwa/internal/confkit"
)

// EnvPrefix starts every environment variable that overrides a site key:
// exchange.rtp.start is KURODENWA_EXCHANGE_RTP_START, the password of
// extension blackphone is KURODENWA_EXTENSIONS_BLACKPHONE_PASSWORD.
const EnvPrefix = confkit.EnvPrefix

// Options are the outside world a load may touch; tests replace them.
type Options = confkit.Options

// Problem, Problems and InvalidError report what is wrong with a site
// file, one problem per key.
type (
	Problem      = confkit.Problem
	Problems     = confkit.Problems
	InvalidError = confkit.InvalidError
)

// EnvName is the environment variable that overrides a site key.
func EnvName(key string) string { return confkit.EnvName(key) }

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
	opts = opts.WithDefaults()
	s, loaded, probs := confkit.DecodeWith[Site](data, confkit.Spec{
		Defaults: defaults(),
		// Secrets come from the environment or an owner-only file only.
		Secret: func(key string) bool { return strings.HasSuffix(key, ".password") },
	}, opts)
	if len(probs) > 0 {
		return nil, probs.Err(name)
	}
	s.normalize(loaded)
	probs = append(probs, s.resolveSecrets(opts)...)
	probs = append(probs, s.validate()...)
	if len(probs) > 0 {
		return nil, probs.Sorted().Err(name)
	}
	return s, nil
}
