package demo

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestDemo runs the demo's whole call against a real baresip.
func TestDemo(t *testing.T) {
	if _, err := exec.LookPath("baresip"); err != nil {
		t.Skip("skipping: no baresip on PATH (Debian package baresip-core; make deps installs it)")
	}
	var out strings.Builder
	err := Run(context.Background(), Options{Out: &out})
	t.Log("\n" + out.String())
	var se *StepError
	if errors.As(err, &se) {
		t.Fatalf("demo failed at %q: %v", se.Step, se.Err)
	}
	require.NoError(t, err)
	require.Contains(t, out.String(), "all 11 checks passed")
}
