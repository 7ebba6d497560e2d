package simphone_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line/sim"
	"github.com/kurodenwa/kurodenwa/pi-gateway/phone"
	"github.com/kurodenwa/kurodenwa/pi-gateway/simphone"
)

const bound = 10 * time.Second

// syncBuf is a writer the test can read while others write.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// net answers every call at once and records what it was asked.
type net struct{}

func (net) Dial(context.Context, phone.CallID, string) error    { return nil }
func (net) Answer(context.Context, phone.CallID) error          { return nil }
func (net) Reject(context.Context, phone.CallID, int) error     { return nil }
func (net) Hangup(context.Context, phone.CallID) error          { return nil }
func (net) SendDigit(context.Context, phone.CallID, byte) error { return nil }

// TestSession types keys into the terminal phone, wired as the daemon
// would, on a manual clock, and checks the transcript.
func TestSession(t *testing.T) {
	clk := clock.NewManual(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC))
	var out syncBuf
	ph := simphone.New(&out, clk)
	l, err := sim.New(ph.SimOptions(sim.Options{Clock: clk}))
	require.NoError(t, err)
	defer l.Close()
	ph.Attach(l)
	m, err := phone.New(phone.DefaultConfig())
	require.NoError(t, err)
	seen := make(chan phone.Event, 64)
	n := net{}
	r, err := phone.NewRunner(m, phone.RunnerOptions{
		Line: l, Network: n, Tones: ph.Tones(nil), Clock: clk,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Observe: func(ev phone.Event, st phone.State, cmds []phone.Command) {
			ph.Observe(ev, st, cmds)
			seen <- ev
		},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = r.Run(ctx) }()
	wait := func(k phone.EventKind) {
		t.Helper()
		for {
			select {
			case ev := <-seen:
				if ev.Kind == k {
					return
				}
			case <-time.After(bound):
				t.Fatalf("no %v event", k)
			}
		}
	}

	type_ := func(s string) { ph.Keys(s) }

	type_("h")
	clk.Advance(time.Second)
	wait(phone.OffHook)
	type_("1")
	type_("7 ?")
	clk.Advance(1500 * time.Millisecond)
	wait(phone.Digit)
	clk.Advance(2 * time.Second)
	wait(phone.Digit)
	require.NoError(t, r.Post(ctx, phone.Event{Kind: phone.Incoming, Call: "in-1", From: "0312345678"}))
	wait(phone.Incoming)
	type_("x")
	assert.True(t, ph.Keys("q"))
	require.NoError(t, ph.Run(ctx, strings.NewReader("q\n")))

	text := out.String()
	for _, want := range []string{
		"you lift the handset", "speech path connected", "handset off hook", "♪ dial tone (発信音)",
		"state: idle → dial-tone", "dialling 1: 1 ▮", "dialling 7: 7 ▮▮▮▮▮▮▮", "digit 1 decoded (1 pulses)", "digit 7 decoded (7 pulses)", "♪ (silence)",
		"incoming call from 0312345678", "unknown key 'x'", "keys (then Enter)",
	} {
		assert.Contains(t, text, want)
	}
}

func TestStandalone(t *testing.T) {
	var out syncBuf
	ph := simphone.New(&out, nil)
	err := ph.Run(context.Background(), strings.NewReader("h\n"))
	require.NoError(t, err)
	assert.Contains(t, out.String(), "no line attached")

	clk := clock.NewManual(time.Unix(0, 0))
	ph = simphone.New(&out, clk)
	l, err := sim.New(ph.SimOptions(sim.Options{Clock: clk}))
	require.NoError(t, err)
	defer l.Close()
	ph.Attach(l)
	require.NoError(t, ph.Run(context.Background(), strings.NewReader("5\nf\ns\nh\nh\n")))
	text := out.String()
	assert.Contains(t, text, "cannot dial: sim: on hook")
	assert.Contains(t, text, "cannot flash")
	assert.Contains(t, text, "line: sim: on hook, idle")
	assert.Contains(t, text, "you replace the handset")
	assert.True(t, strings.HasPrefix(text, "[   0.0s] keys (then Enter)"), text)
	assert.Contains(t, text, "[   0.0s] no line attached")
	require.NoError(t, l.Ring(context.Background(), []time.Duration{time.Second, 2 * time.Second}))
	require.NoError(t, l.Reverse(context.Background(), true))
	require.NoError(t, l.Idle(context.Background()))
	text = out.String()
	assert.Contains(t, text, "RING RING")
	assert.Contains(t, text, "polarity reversed")
	assert.Contains(t, text, "bell stops")
}
