package confkit_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/internal/confkit"
)

type sample struct {
	Name  string        `mapstructure:"name"`
	Inner inner         `mapstructure:"inner"`
	Wait  time.Duration `mapstructure:"wait"`
}

type inner struct {
	Count    int      `mapstructure:"count"`
	Password string   `mapstructure:"password"`
	Tags     []string `mapstructure:"tags"`
}

var spec = confkit.Spec{
	Defaults: map[string]any{"inner.count": 3, "wait": "2s"},
	Secret:   func(k string) bool { return k == "inner.password" },
}

func env(vars map[string]string) confkit.Options {
	return confkit.Options{LookupEnv: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
}

func TestDecode(t *testing.T) {
	got, probs := confkit.Decode[sample]([]byte("name: x\ninner:\n  tags: a,b\n"), spec,
		env(map[string]string{"KURODENWA_INNER_PASSWORD": "s3cret", "KURODENWA_WAIT": "5s"}))
	require.Empty(t, probs)
	assert.Equal(t, sample{Name: "x", Wait: 5 * time.Second, Inner: inner{Count: 3, Password: "s3cret", Tags: []string{"a", "b"}}}, *got)
}

func TestDecodeProblems(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string
	}{
		{"yaml", "a: [", []string{"(file)"}},
		{"unknown and section", "nme: x\ninner: 3\n", []string{"inner", "nme"}},
		{"secret in file", "inner:\n  password: x\n", []string{"inner.password"}},
		{"wrong type", "inner:\n  count: many\n", []string{"inner.count"}},
		{"bad duration", "wait: soon\n", []string{"wait"}},
		{"too deep", "name:\n  x: 1\n", []string{"name.x"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, probs := confkit.Decode[sample]([]byte(tt.yaml), spec, env(nil))
			assert.Nil(t, got)
			var keys []string
			for _, p := range probs {
				keys = append(keys, p.Key)
			}
			assert.Equal(t, tt.want, keys)
			err := probs.Err("f.yaml")
			var ie *confkit.InvalidError
			require.ErrorAs(t, err, &ie)
			assert.Contains(t, err.Error(), "f.yaml: ")
		})
	}
	assert.NoError(t, confkit.Problems(nil).Err("x"))
}

func TestReadPrivateFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s")
	require.NoError(t, os.WriteFile(p, []byte("pw\n"), 0o644))
	_, err := confkit.ReadPrivateFile(p)
	assert.ErrorContains(t, err, "chmod 600")
	require.NoError(t, os.Chmod(p, 0o600))
	b, err := confkit.ReadPrivateFile(p)
	require.NoError(t, err)
	assert.Equal(t, "pw\n", string(b))
	_, err = confkit.ReadPrivateFile(filepath.Join(dir, "none"))
	assert.Error(t, err)
	assert.Equal(t, "KURODENWA_SIP_AUTH_USER", confkit.EnvName("sip.auth-user"))
}
