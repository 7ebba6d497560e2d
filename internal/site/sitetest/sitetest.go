// Package sitetest loads the repository's site files in tests, with fake
// passwords for every secret they name. The passwords are made up and
// strong enough to pass validation; rendered test output (golden files)
// holds them as a real pjsip.conf holds the real ones.
package sitetest

import (
	"maps"
	"testing"

	"github.com/kurodenwa/kurodenwa/internal/site"
)

// Secrets returns the fake passwords, by environment variable, of every
// secret the example site and the test site files need.
func Secrets() map[string]string {
	return map[string]string{
		"KURODENWA_ARI_PASSWORD":                   "AriSecret2026x",
		"KURODENWA_TWILIO_PASSWORD":                "TwilioSecret2026",
		"KURODENWA_EXTENSIONS_BLACKPHONE_PASSWORD": "Kuro-Denwa-2026",
		"KURODENWA_EXTENSIONS_LINPHONE_PASSWORD":   "Soft-Phone-2026a",
		"KURODENWA_EXTENSIONS_AGEPHONE_PASSWORD":   "Soft-Phone-2026b",
		"KURODENWA_EXTENSIONS_DESK_PASSWORD":       "Office-Phone-2026",
		"KURODENWA_PEERS_MINATO_PASSWORD":          "MinatoPeer2026",
		"KURODENWA_PEERS_LAB_PASSWORD":             "LabPeerSecret2026",
	}
}

// Env is Secrets with extra laid over it: the environment of a test.
func Env(extra map[string]string) map[string]string {
	env := Secrets()
	maps.Copy(env, extra)
	return env
}

// Load loads a site file in the environment Env(extra), failing the test
// if it is not valid.
func Load(t testing.TB, path string, extra map[string]string) *site.Site {
	t.Helper()
	env := Env(extra)
	s, err := site.Load(path, site.Options{LookupEnv: func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}})
	if err != nil {
		t.Fatalf("load %s: %v", path, err)
	}
	return s
}
