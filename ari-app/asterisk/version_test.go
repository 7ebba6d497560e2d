package asterisk

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAppTransfers(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    bool
	}{
		{"22.10.1", true},
		{"22.3.0", true},
		{"22.3.0-rc1", true},
		{"22.2.0", false},
		{"21.8.0", true},
		{"21.7.9", false},
		{"20.13.0", true},
		{"20.12.3", false},
		{"23.0.0", true},
		{"24.1", true},
		{"19.8.1", false},
		{"18.26.0", false},
		{"certified-20.7-cert5", false},
		{"certified-22.8-cert1", true},
		{"GIT-master-1a2b3c4", true},
		{"GIT-22-1a2b3c4", false},
		{"GIT-23-1a2b3c4", true},
		{" 22.10.1\n", true},
		{"", false},
		{"22", false},
		{"x.y.z", false},
		{"22.x", false},
	} {
		assert.Equal(t, tc.want, AppTransfers(tc.version), "%q", tc.version)
	}
}

func TestReferSubFixed(t *testing.T) {
	for _, tc := range []struct {
		version string
		want    bool
	}{
		{"22.10.1", false},
		{"22.11.0-rc1", true},
		{"22.11.0", true},
		{"22.3.0", false},
		{"20.20.1", false},
		{"20.21.0", true},
		{"21.12.0", false}, // 21 ended before the fix
		{"23.4.0", false},
		{"23.5.0", true},
		{"24.0.0", true},
		{"certified-22.8-cert1", false},
		{"GIT-master-1a2b3c4", true},
		{"GIT-23-1a2b3c4", false},
		{"", false},
	} {
		assert.Equal(t, tc.want, ReferSubFixed(tc.version), "%q", tc.version)
	}
}

func FuzzAppTransfers(f *testing.F) {
	for _, s := range []string{"22.10.1", "20.13.0-rc1", "certified-20.7-cert5", "GIT-master-abc", "", "22..", "-1.-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		got := AppTransfers(v)
		// Whatever the text, only a version at or past a release with the
		// feature says yes, and a fix needs the feature.
		if got && !(len(v) > 0) {
			t.Fatalf("%q: empty version supports app transfers", v)
		}
		if ReferSubFixed(v) && !got {
			t.Fatalf("%q: the Refer-Sub fix without the feature", v)
		}
	})
}
