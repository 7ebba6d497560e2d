package serial_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/atline"
	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line/serial"
)

const bound = 10 * time.Second

// arduino is a fake Arduino on one end of a net.Pipe: it records the
// commands it receives and answers each as reply says.
type arduino struct {
	conn  net.Conn
	cmds  chan string
	mu    sync.Mutex
	reply func(cmd string) string // "" sends no reply
}

func newArduino(conn net.Conn, reply func(string) string) *arduino {
	if reply == nil {
		reply = func(string) string { return "OK" }
	}
	a := &arduino{conn: conn, cmds: make(chan string, 64), reply: reply}
	go func() {
		sc := bufio.NewScanner(conn)
		for sc.Scan() {
			cmd := strings.TrimSpace(sc.Text())
			a.cmds <- cmd
			a.mu.Lock()
			r := a.reply(cmd)
			a.mu.Unlock()
			if r != "" {
				a.send(r)
			}
		}
	}()
	return a
}

func (a *arduino) setReply(f func(string) string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.reply = f
}

func (a *arduino) send(lines ...string) {
	for _, s := range lines {
		_, _ = a.conn.Write([]byte(s + "\r\n"))
	}
}

// expect waits for the next commands.
func (a *arduino) expect(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		select {
		case got := <-a.cmds:
			require.Equal(t, w, got)
		case <-time.After(bound):
			t.Fatalf("waiting for command %s", w)
		}
	}
}

// rig wires a Line to fake Arduinos handed out by its Open.
type rig struct {
	t       *testing.T
	line    *serial.Line
	clk     *clock.Manual
	status  chan string
	opened  chan *arduino
	openErr chan error          // one result per Open; nil means connect a new fake
	reply   func(string) string // for the fakes Open makes; nil answers OK
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{
		t:       t,
		clk:     clock.NewManual(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)),
		status:  make(chan string, 64),
		opened:  make(chan *arduino, 4),
		openErr: make(chan error, 8),
	}
	l, err := serial.New(context.Background(), serial.Config{Port: "/dev/ttyFAKE"}, serial.Options{
		Open: func(ctx context.Context) (io.ReadWriteCloser, error) {
			select {
			case err := <-r.openErr:
				if err != nil {
					return nil, err
				}
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			ours, theirs := net.Pipe()
			r.opened <- newArduino(theirs, r.reply)
			return ours, nil
		},
		Clock:    r.clk,
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnStatus: func(s string) { r.status <- s },
	})
	require.NoError(t, err)
	r.line = l
	t.Cleanup(func() { _ = l.Close() })
	return r
}

// connect lets the next Open succeed and completes the handshake.
func (r *rig) connect() *arduino {
	r.t.Helper()
	r.openErr <- nil
	var a *arduino
	select {
	case a = <-r.opened:
	case <-time.After(bound):
		r.t.Fatal("never opened")
	}
	a.expect(r.t, "AT", "IDLE")
	r.waitStatus("serial /dev/ttyFAKE: ready")
	return a
}

func (r *rig) waitStatus(prefix string) string {
	r.t.Helper()
	for {
		select {
		case s := <-r.status:
			if strings.HasPrefix(s, prefix) {
				return s
			}
		case <-time.After(bound):
			r.t.Fatalf("status never became %q (now %q)", prefix, r.line.Status())
		}
	}
}

func (r *rig) event() line.Event {
	r.t.Helper()
	select {
	case e := <-r.line.Events():
		return e
	case <-time.After(bound):
		r.t.Fatal("no line event")
		return line.Event{}
	}
}

func TestEventsAndCommands(t *testing.T) {
	r := newRig(t)
	a := r.connect()
	ctx := context.Background()

	a.send("OFFHOOK", "DIGIT 1", "garbage", "DIGIT 0", "FLASH", "ONHOOK")
	var got []string
	for range 5 {
		e := r.event()
		s := e.Kind.String()
		if e.Kind == line.Digit {
			s += string(rune('0' + e.Digit))
		}
		got = append(got, s)
	}
	assert.Equal(t, []string{"off-hook", "digit1", "digit0", "flash", "on-hook"}, got)

	cad := []time.Duration{time.Second, 2 * time.Second}
	require.NoError(t, r.line.Ring(ctx, cad))
	a.expect(t, "RING")
	require.NoError(t, r.line.StopRinging(ctx))
	a.expect(t, "RINGSTOP")
	require.NoError(t, r.line.Talk(ctx, true))
	a.expect(t, "TALK")
	require.NoError(t, r.line.Reverse(ctx, true))
	a.expect(t, "REVERSE")
	require.NoError(t, r.line.Reverse(ctx, false)) // IDLE, then the speech path again
	a.expect(t, "IDLE", "TALK")
	require.NoError(t, r.line.Reverse(ctx, true))
	a.expect(t, "REVERSE")
	require.NoError(t, r.line.Talk(ctx, false)) // IDLE, then the polarity again
	a.expect(t, "IDLE", "REVERSE")
	require.NoError(t, r.line.Idle(ctx))
	a.expect(t, "IDLE")
	assert.Error(t, r.line.Ring(ctx, nil))

	a.setReply(func(cmd string) string {
		if cmd == "RING" {
			return "ERROR off hook"
		}
		return "OK"
	})
	err := r.line.Ring(ctx, cad)
	var ce *atline.CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, "off hook", ce.Text)
	assert.NoError(t, r.line.Err())
}

func TestRetriesUntilThePortAppears(t *testing.T) {
	r := newRig(t)
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	r.openErr <- errors.New("no such file or directory")
	assert.Equal(t, "serial /dev/ttyFAKE: retrying in 1s: open: no such file or directory", r.waitStatus("serial /dev/ttyFAKE: retrying"))
	err := r.line.Talk(ctx, true) // remembered for when the link is up
	require.ErrorIs(t, err, serial.ErrNotConnected)
	assert.Contains(t, err.Error(), "retrying")
	require.NoError(t, r.clk.WaitForTimers(ctx, 1))
	r.openErr <- errors.New("still missing")
	r.clk.Advance(time.Second)
	assert.Contains(t, r.waitStatus("serial /dev/ttyFAKE: retrying"), "retrying in 2s")
	require.NoError(t, r.clk.WaitForTimers(ctx, 1))
	r.openErr <- nil
	r.clk.Advance(2 * time.Second)
	a := <-r.opened
	a.expect(t, "AT", "IDLE", "TALK")
	r.waitStatus("serial /dev/ttyFAKE: ready")
}

func TestReconnectAfterUnplugReplaysState(t *testing.T) {
	r := newRig(t)
	a := r.connect()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	a.send("OFFHOOK")
	assert.Equal(t, line.OffHook, r.event().Kind)
	require.NoError(t, r.line.Talk(ctx, true))
	a.expect(t, "TALK")

	_ = a.conn.Close() // unplugged
	assert.Equal(t, line.OnHook, r.event().Kind, "a lost link ends the call")
	r.waitStatus("serial /dev/ttyFAKE: retrying in 1s")
	require.NoError(t, r.clk.WaitForTimers(ctx, 1))
	r.openErr <- nil
	r.clk.Advance(time.Second)
	b := <-r.opened
	b.expect(t, "AT", "IDLE", "TALK")
	r.waitStatus("serial /dev/ttyFAKE: ready")
}

func TestArduinoRestartReplaysState(t *testing.T) {
	r := newRig(t)
	a := r.connect()
	ctx := context.Background()
	a.send("OFFHOOK")
	assert.Equal(t, line.OffHook, r.event().Kind)
	require.NoError(t, r.line.Reverse(ctx, true))
	a.expect(t, "REVERSE")
	a.send("READY kurodenwa-arduino 1.0", "OFFHOOK")
	assert.Equal(t, line.OnHook, r.event().Kind)
	assert.Equal(t, line.OffHook, r.event().Kind)
	a.expect(t, "IDLE", "REVERSE")
}

func TestWatchdogDropsSilentLink(t *testing.T) {
	r := newRig(t)
	a := r.connect()
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	a.setReply(func(string) string { return "" }) // hangs
	for range 2 {
		require.NoError(t, r.clk.WaitForTimers(ctx, 1)) // the watchdog's wait
		r.clk.Advance(5 * time.Second)
		a.expect(t, "AT")
		r.clk.Advance(time.Second) // no reply within the deadline
	}
	assert.Contains(t, r.waitStatus("serial /dev/ttyFAKE: retrying"), "watchdog")
}

func TestHandshakeGivesUp(t *testing.T) {
	r := newRig(t)
	ctx, cancel := context.WithTimeout(context.Background(), bound)
	defer cancel()
	r.reply = func(string) string { return "" }
	r.openErr <- nil
	a := <-r.opened
	for range 4 {
		a.expect(t, "AT")
		r.clk.Advance(time.Second)
	}
	assert.Contains(t, r.waitStatus("serial /dev/ttyFAKE: retrying"), "no answer to AT")
	require.NoError(t, r.clk.WaitForTimers(ctx, 1))
}

func TestConfig(t *testing.T) {
	_, err := serial.New(context.Background(), serial.Config{}, serial.Options{})
	assert.ErrorContains(t, err, "no port")
	_, err = serial.New(context.Background(), serial.Config{Port: "x", Baud: -1}, serial.Options{})
	assert.ErrorContains(t, err, "baud")
}

func TestRealPortMissing(t *testing.T) {
	status := make(chan string, 16)
	l, err := serial.New(context.Background(), serial.Config{Port: "/dev/kurodenwa-no-such-port"}, serial.Options{
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), OnStatus: func(s string) { status <- s },
	})
	require.NoError(t, err)
	defer l.Close()
	for {
		select {
		case s := <-status:
			if strings.Contains(s, "retrying") {
				assert.Contains(t, s, "/dev/kurodenwa-no-such-port")
				return
			}
		case <-time.After(bound):
			t.Fatal("no retry status")
		}
	}
}
