package phone_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line/sim"
	"github.com/kurodenwa/kurodenwa/pi-gateway/phone"
)

// TestWithSimulatedLine runs the Runner on the simulated line: real pulse
// trains through the decoder, on a manual clock.
func TestWithSimulatedLine(t *testing.T) {
	clk := clock.NewManual(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	changes := make(chan sim.Outputs, 64)
	sl, err := sim.New(sim.Options{Clock: clk, OnChange: func(o sim.Outputs) { changes <- o }})
	require.NoError(t, err)
	defer sl.Close()
	l := newLog()
	seen := make(chan phone.Event, 256)
	m, err := phone.New(phone.DefaultConfig())
	require.NoError(t, err)
	r, err := phone.NewRunner(m, phone.RunnerOptions{
		Line: sl, Network: &fakeNet{log: l}, Tones: fakeTones{l}, Clock: clk,
		Logger:  slog.New(slog.NewTextHandler(io.Discard, nil)),
		Observe: func(ev phone.Event, _ phone.State, _ []phone.Command) { seen <- ev },
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	defer func() { cancel(); <-done }()

	sl.Lift()
	clk.Advance(time.Second)
	l.expect(t, "tone dial")
	assert.True(t, sl.Outputs().Talk)
	require.NoError(t, sl.Dial("117"))
	// The manual clock runs ahead of the goroutines that carry events, so
	// stop before the 4 s inter-digit timer of the second 1 could expire
	// and let the runner take the last digit first.
	clk.Advance(5 * time.Second)
	for ev := range seen {
		if ev.Kind == phone.Digit && ev.Digit == '7' {
			break
		}
	}
	l.expect(t, "tone stop", "net dial out-1 117")

	require.NoError(t, r.Post(ctx, phone.Event{Kind: phone.Answered, Call: "out-1"}))
	sl.Replace()
	clk.Advance(2 * time.Second)
	l.expect(t, "net hangup out-1")

	require.NoError(t, r.Post(ctx, phone.Event{Kind: phone.Incoming, Call: "in-1"}))
	for o := range changes {
		if o.Ringing {
			break
		}
	}
	sl.Lift() // ring trip
	assert.False(t, sl.Outputs().Ringing)
	clk.Advance(time.Second)
	l.expect(t, "net answer in-1")
	for o := range changes {
		if o.Reversed {
			assert.True(t, o.Talk)
			break
		}
	}
}
