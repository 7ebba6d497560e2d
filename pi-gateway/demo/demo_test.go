package demo

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line/sim"
	"github.com/kurodenwa/kurodenwa/pi-gateway/phone"
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
	require.Contains(t, out.String(), "all 27 checks passed")
}

// TestDialRetriesOnce: a pulse train the decoder rejects (a loaded
// machine's late timers) makes the demo hang up and dial once more, and
// only once.
func TestDialRetriesOnce(t *testing.T) {
	digitErr := observed{phone.Event{Kind: phone.DigitError, Reason: "speed out of range"}, phone.StateLockout}
	idle := observed{phone.Event{Kind: phone.OnHook}, phone.StateIdle}
	dialTone := observed{phone.Event{Kind: phone.OffHook}, phone.StateDialTone}
	calling := observed{phone.Event{Kind: phone.Digit, Digit: '2'}, phone.StateCalling}
	tests := []struct {
		name    string
		seen    []observed
		wantErr bool
	}{
		{"first time", []observed{calling}, false},
		{"second time", []observed{digitErr, idle, dialTone, calling}, false},
		{"never", []observed{digitErr, idle, dialTone, digitErr}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out strings.Builder
			d := &run{out: &lockedWriter{w: &out}, start: time.Now(), obs: make(chan observed, len(tt.seen))}
			for _, o := range tt.seen {
				d.obs <- o
			}
			// A manual clock never sends the pulses: the phone's answers
			// are the test's.
			l, err := sim.New(sim.Options{Clock: clock.NewManual(time.Now())})
			require.NoError(t, err)
			defer l.Close()
			l.Lift()
			err = d.dial(context.Background(), l)
			if tt.wantErr {
				var se *StepError
				require.ErrorAs(t, err, &se)
				assert.Equal(t, "dial", se.Step)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, len(tt.seen) > 1, strings.Contains(out.String(), "dial 202 again"), out.String())
		})
	}
}
