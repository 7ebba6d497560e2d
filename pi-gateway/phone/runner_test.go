package phone_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line"
	"github.com/kurodenwa/kurodenwa/pi-gateway/phone"
)

// bound is the longest a test waits for something that should happen at
// once; it only turns a hang into a failure.
const bound = 10 * time.Second

// log collects what the fakes were asked to do, in order.
type log struct {
	ch chan string
}

func newLog() *log { return &log{ch: make(chan string, 256)} }

func (l *log) add(format string, args ...any) { l.ch <- fmt.Sprintf(format, args...) }

// expect waits for the next entries and compares them.
func (l *log) expect(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case got := <-l.ch:
			require.Equal(t, w, got)
		case <-time.After(bound):
			t.Fatalf("waiting for %q: nothing came", w)
		}
	}
}

type fakeLine struct {
	log    *log
	events chan line.Event
	ringOK error
}

func (f *fakeLine) Events() <-chan line.Event { return f.events }
func (f *fakeLine) Ring(_ context.Context, c []time.Duration) error {
	f.log.add("line ring %v", c)
	return f.ringOK
}
func (f *fakeLine) StopRinging(context.Context) error { f.log.add("line stop-ringing"); return nil }
func (f *fakeLine) Reverse(_ context.Context, on bool) error {
	f.log.add("line reverse %v", on)
	return nil
}
func (f *fakeLine) Talk(_ context.Context, on bool) error { f.log.add("line talk %v", on); return nil }
func (f *fakeLine) Idle(context.Context) error            { f.log.add("line idle"); return nil }
func (f *fakeLine) Status() string                        { return "fake" }
func (f *fakeLine) Err() error                            { return nil }
func (f *fakeLine) Close() error                          { return nil }

type fakeNet struct {
	log     *log
	dialErr error
}

func (n *fakeNet) Dial(_ context.Context, c phone.CallID, num string) error {
	n.log.add("net dial %s %s", c, num)
	return n.dialErr
}
func (n *fakeNet) Answer(_ context.Context, c phone.CallID) error {
	n.log.add("net answer %s", c)
	return nil
}
func (n *fakeNet) Reject(_ context.Context, c phone.CallID, st int) error {
	n.log.add("net reject %s %d", c, st)
	return nil
}
func (n *fakeNet) Hangup(_ context.Context, c phone.CallID) error {
	n.log.add("net hangup %s", c)
	return nil
}
func (n *fakeNet) SendDigit(_ context.Context, c phone.CallID, d byte) error {
	n.log.add("net digit %s %c", c, d)
	return nil
}

type fakeTones struct{ log *log }

func (f fakeTones) PlayTone(t phone.Tone) error { f.log.add("tone %v", t); return nil }
func (f fakeTones) StopTone() error             { f.log.add("tone stop"); return nil }

type rig struct {
	log    *log
	line   *fakeLine
	net    *fakeNet
	clk    *clock.Manual
	runner *phone.Runner
	cancel context.CancelFunc
	done   chan error

	mu       sync.Mutex
	observed []phone.State
	seen     chan phone.Event
}

func newRig(t *testing.T) *rig {
	t.Helper()
	l := newLog()
	r := &rig{
		log:  l,
		line: &fakeLine{log: l, events: make(chan line.Event)},
		net:  &fakeNet{log: l},
		clk:  clock.NewManual(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)),
		done: make(chan error, 1),
		seen: make(chan phone.Event, 256),
	}
	m, err := phone.New(phone.DefaultConfig())
	require.NoError(t, err)
	r.runner, err = phone.NewRunner(m, phone.RunnerOptions{
		Line: r.line, Network: r.net, Tones: fakeTones{l}, Clock: r.clk,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Observe: func(ev phone.Event, st phone.State, _ []phone.Command) {
			r.mu.Lock()
			r.observed = append(r.observed, st)
			r.mu.Unlock()
			r.seen <- ev
		},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	go func() { r.done <- r.runner.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *rig) lineEvent(t *testing.T, e line.Event) {
	t.Helper()
	select {
	case r.line.events <- e:
	case <-time.After(bound):
		t.Fatal("runner does not take line events")
	}
}

func (r *rig) post(t *testing.T, e phone.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	require.NoError(t, r.runner.Post(ctx, e))
}

func (r *rig) dial(t *testing.T, digits string) {
	t.Helper()
	for _, d := range digits {
		r.lineEvent(t, line.Event{Kind: line.Digit, Digit: int(d - '0')})
	}
}

func (r *rig) stop(t *testing.T) {
	r.cancel()
	select {
	case <-r.done:
	case <-time.After(bound):
		t.Fatal("runner did not stop")
	}
}

func TestRunnerOutgoingCall(t *testing.T) {
	r := newRig(t)
	r.lineEvent(t, line.Event{Kind: line.OffHook})
	r.log.expect(t, "line talk true", "tone dial")
	r.dial(t, "110")
	r.log.expect(t, "tone stop", "net dial out-1 110")
	r.post(t, phone.Event{Kind: phone.Alerting, Call: "out-1"})
	r.log.expect(t, "tone ringback")
	r.post(t, phone.Event{Kind: phone.Answered, Call: "out-1"})
	r.log.expect(t, "tone stop", "line reverse true")
	r.lineEvent(t, line.Event{Kind: line.Flash})
	r.log.expect(t, "net digit out-1 A")
	r.post(t, phone.Event{Kind: phone.RemoteHangup, Call: "out-1"})
	r.log.expect(t, "line reverse false", "tone hangup")
	r.lineEvent(t, line.Event{Kind: line.OnHook})
	r.log.expect(t, "tone stop", "line talk false")
	assert.Equal(t, uint64(1), r.runner.Results()[phone.ResultAnswered])
	assert.Equal(t, phone.StateIdle, r.runner.Snapshot().State)
}

func TestRunnerTimerDialsExtension(t *testing.T) {
	r := newRig(t)
	r.lineEvent(t, line.Event{Kind: line.OffHook})
	r.log.expect(t, "line talk true", "tone dial")
	r.dial(t, "201")
	r.log.expect(t, "tone stop")
	// The inter-digit timer is the only one left once 201 was handled.
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	require.NoError(t, r.clk.WaitForTimers(ctx, 1))
	for last := false; !last; {
		select {
		case ev := <-r.seen:
			last = ev.Kind == phone.Digit && ev.Digit == '1'
		case <-ctx.Done():
			t.Fatal("digits never reached the machine")
		}
	}
	assert.Equal(t, "201", r.runner.Snapshot().Digits)
	r.clk.Advance(4 * time.Second)
	r.log.expect(t, "net dial out-1 201")
}

func TestRunnerDialFailureGivesCongestion(t *testing.T) {
	r := newRig(t)
	r.net.dialErr = errors.New("not registered")
	r.lineEvent(t, line.Event{Kind: line.OffHook})
	r.dial(t, "117")
	r.log.expect(t, "line talk true", "tone dial", "tone stop", "net dial out-1 117", "tone congestion")
	assert.Equal(t, "failed: not registered", r.runner.Snapshot().LastError)
}

func TestRunnerIncomingAndShutdown(t *testing.T) {
	r := newRig(t)
	r.post(t, phone.Event{Kind: phone.Incoming, Call: "c1", From: "201"})
	r.log.expect(t, "line ring [1s 2s]")
	r.lineEvent(t, line.Event{Kind: line.OffHook})
	r.log.expect(t, "line stop-ringing", "line talk true", "net answer c1", "line reverse true")
	r.post(t, phone.Event{Kind: phone.Incoming, Call: "c2"})
	r.log.expect(t, "net reject c2 486")
	r.cancel()
	r.log.expect(t, "net hangup c1", "line idle")
	require.ErrorIs(t, <-r.done, context.Canceled)
	r.done <- nil // for the cleanup
	assert.ErrorIs(t, r.runner.Post(context.Background(), phone.Event{}), phone.ErrStopped)
	r.mu.Lock()
	defer r.mu.Unlock()
	assert.Equal(t, []phone.State{phone.StateRinging, phone.StateConnected, phone.StateConnected}, r.observed)
}

func TestRunnerLineClosed(t *testing.T) {
	l := newLog()
	fl := &fakeLine{log: l, events: make(chan line.Event)}
	m, err := phone.New(phone.DefaultConfig())
	require.NoError(t, err)
	r, err := phone.NewRunner(m, phone.RunnerOptions{Line: fl, Network: &fakeNet{log: l}, Tones: fakeTones{l},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	require.NoError(t, err)
	close(fl.events)
	assert.ErrorContains(t, r.Run(context.Background()), "line closed")
}

func TestNewRunnerErrors(t *testing.T) {
	m, err := phone.New(phone.DefaultConfig())
	require.NoError(t, err)
	l := newLog()
	full := phone.RunnerOptions{Line: &fakeLine{log: l}, Network: &fakeNet{log: l}, Tones: fakeTones{l}}
	tests := []struct {
		name string
		m    *phone.Machine
		mod  func(*phone.RunnerOptions)
	}{
		{"machine", nil, func(*phone.RunnerOptions) {}},
		{"line", m, func(o *phone.RunnerOptions) { o.Line = nil }},
		{"network", m, func(o *phone.RunnerOptions) { o.Network = nil }},
		{"tone player", m, func(o *phone.RunnerOptions) { o.Tones = nil }},
	}
	for _, tt := range tests {
		o := full
		tt.mod(&o)
		_, err := phone.NewRunner(tt.m, o)
		assert.ErrorContains(t, err, tt.name)
	}
}
