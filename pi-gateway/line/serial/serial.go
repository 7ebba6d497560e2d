// Package serial is the line backend for an Arduino that drives the
// telephone line and speaks pi-gateway/atline's protocol over USB serial.
// It keeps the port open for the daemon's whole life: a port that is
// missing, does not answer or disappears is retried with back-off, the
// outputs the phone logic wants are replayed after every (re)connection,
// and Status says which of these is happening.
package serial

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	bugserial "go.bug.st/serial"

	"github.com/kurodenwa/kurodenwa/pi-gateway/atline"
	"github.com/kurodenwa/kurodenwa/pi-gateway/clock"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line"
	"github.com/kurodenwa/kurodenwa/pi-gateway/line/loop"
)

// Config is the serial line's settings.
type Config struct {
	Port string // e.g. /dev/ttyACM0 or /dev/serial/by-id/usb-Arduino…
	Baud int    // default 115200
	// CommandTimeout bounds one command's reply (default 1 s, PROTOCOL.md).
	CommandTimeout time.Duration
	// Watchdog is how often an idle link is checked with AT (default 5 s);
	// two missed replies in a row drop the link.
	Watchdog time.Duration
	// MinBackoff and MaxBackoff bound the wait between reconnection
	// attempts, doubling from one to the other (default 1 s and 30 s).
	MinBackoff, MaxBackoff time.Duration
	// HandshakeTries is how many AT commands a fresh link may miss before
	// it is given up (default 4: an Uno takes up to 2 s to boot after the
	// port opens and resets it).
	HandshakeTries int
}

func (c *Config) defaults() error {
	if c.Port == "" {
		return errors.New("serial: no port configured")
	}
	if c.Baud == 0 {
		c.Baud = 115200
	}
	if c.CommandTimeout <= 0 {
		c.CommandTimeout = time.Second
	}
	if c.Watchdog <= 0 {
		c.Watchdog = 5 * time.Second
	}
	if c.MinBackoff <= 0 {
		c.MinBackoff = time.Second
	}
	if c.MaxBackoff < c.MinBackoff {
		c.MaxBackoff = max(30*time.Second, c.MinBackoff)
	}
	if c.HandshakeTries <= 0 {
		c.HandshakeTries = 4
	}
	if c.Baud < 0 {
		return fmt.Errorf("serial: baud %d is negative", c.Baud)
	}
	return nil
}

// Options are the outside world; tests replace them.
type Options struct {
	// Open opens the link (default: the serial port at Config.Baud, 8N1).
	Open   func(ctx context.Context) (io.ReadWriteCloser, error)
	Clock  clock.Clock  // default clock.Real
	Logger *slog.Logger // default slog.Default()
	// OnStatus, if set, sees every new Status text.
	OnStatus func(string)
}

// ErrNotConnected is returned by output methods while the link is down;
// the wanted state is kept and sent once the link is back.
var ErrNotConnected = errors.New("serial: Arduino not connected")

// wanted is the output state the phone logic asked for.
type wanted struct {
	ringing, reversed, talk bool
}

// Line is the Arduino-backed line. It implements line.Line.
type Line struct {
	cfg    Config
	opts   Options
	log    *slog.Logger
	queue  *loop.Queue
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	conn    *atline.Conn // nil while down
	want    wanted
	offHook bool // as the Arduino last said
	status  string
}

var _ line.Line = (*Line)(nil)

// New starts the connection loop and returns at once; Status tells how
// the link is doing. It fails only for an invalid Config.
func New(ctx context.Context, cfg Config, opts Options) (*Line, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	if opts.Clock == nil {
		opts.Clock = clock.Real{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Open == nil {
		port, baud := cfg.Port, cfg.Baud
		opts.Open = func(context.Context) (io.ReadWriteCloser, error) {
			p, err := bugserial.Open(port, &bugserial.Mode{BaudRate: baud, DataBits: 8, Parity: bugserial.NoParity, StopBits: bugserial.OneStopBit})
			if err != nil {
				return nil, err
			}
			return p, nil
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	l := &Line{
		cfg:    cfg,
		opts:   opts,
		log:    opts.Logger.With("component", "line", "backend", "serial", "port", cfg.Port),
		queue:  loop.NewQueue(),
		cancel: cancel,
		done:   make(chan struct{}),
	}
	l.setStatus("connecting")
	go l.supervise(ctx)
	return l, nil
}

func (l *Line) setStatus(s string) {
	s = fmt.Sprintf("serial %s: %s", l.cfg.Port, s)
	l.mu.Lock()
	changed := l.status != s
	l.status = s
	l.mu.Unlock()
	if changed && l.opts.OnStatus != nil {
		l.opts.OnStatus(s)
	}
}

// supervise (re)connects until ctx ends.
func (l *Line) supervise(ctx context.Context) {
	defer close(l.done)
	backoff := l.cfg.MinBackoff
	for ctx.Err() == nil {
		rwc, err := l.opts.Open(ctx)
		if err == nil {
			var ready bool
			ready, err = l.session(ctx, rwc)
			if ready {
				backoff = l.cfg.MinBackoff // it worked for a while: retry soon
			}
		} else {
			err = fmt.Errorf("open: %w", err)
		}
		if ctx.Err() != nil {
			return
		}
		l.setStatus(fmt.Sprintf("retrying in %v: %v", backoff, err))
		l.log.Warn("link down", "err", err, "retry", backoff)
		if clock.Sleep(ctx, l.opts.Clock, backoff) != nil {
			return
		}
		backoff = min(2*backoff, l.cfg.MaxBackoff)
	}
}

// session runs one connection until it fails; ready says whether the
// handshake succeeded.
func (l *Line) session(ctx context.Context, rwc io.ReadWriteCloser) (ready bool, err error) {
	conn := atline.NewConn(rwc, atline.Options{OnBadLine: func(err error) {
		l.log.Warn("bad line from the Arduino", "err", err)
	}})
	resync := make(chan string, 1)
	forwarded := make(chan struct{})
	go func() {
		defer close(forwarded)
		l.forward(conn, resync)
	}()
	defer func() {
		l.mu.Lock()
		l.conn = nil
		lost := l.offHook
		l.offHook = false
		l.mu.Unlock()
		_ = conn.Close()
		<-forwarded
		if lost {
			// Without the Arduino the handset cannot be used: end the call.
			l.queue.Push(line.Event{Kind: line.OnHook, At: l.opts.Clock.Now()})
		}
	}()

	l.setStatus("waiting for the Arduino")
	if err := l.handshake(ctx, conn); err != nil {
		return false, err
	}
	if err := l.apply(ctx, conn); err != nil {
		return false, err
	}
	l.mu.Lock()
	l.conn = conn
	l.mu.Unlock()
	l.setStatus("ready")
	l.log.Info("Arduino ready")

	missed := 0
	for {
		wait, cancel := context.WithCancel(ctx)
		t := l.opts.Clock.AfterFunc(l.cfg.Watchdog, cancel)
		restarted := false
		select {
		case <-wait.Done():
		case <-conn.Done():
		case version := <-resync:
			restarted = true
			l.log.Warn("Arduino restarted; sending the line state again", "version", version)
		}
		t.Stop()
		cancel()
		switch {
		case ctx.Err() != nil:
			return true, ctx.Err()
		case conn.Err() != nil:
			return true, fmt.Errorf("link: %w", conn.Err())
		}
		if restarted {
			if err := l.apply(ctx, conn); err != nil {
				return true, fmt.Errorf("after restart: %w", err)
			}
			continue
		}
		if err := l.do(ctx, conn, atline.KindPing); err != nil {
			missed++
			l.log.Warn("watchdog: no answer", "err", err, "missed", missed)
			if missed >= 2 {
				return true, fmt.Errorf("watchdog: two AT without answer: %w", err)
			}
			continue
		}
		missed = 0
	}
}

// handshake waits until the Arduino answers AT; one that is still booting
// (READY interrupting the command) or silent gets HandshakeTries chances.
func (l *Line) handshake(ctx context.Context, conn *atline.Conn) error {
	var err error
	for range l.cfg.HandshakeTries {
		if err = l.do(ctx, conn, atline.KindPing); err == nil {
			return nil
		}
		if ctx.Err() != nil || conn.Err() != nil {
			break
		}
	}
	return fmt.Errorf("no answer to AT: %w", err)
}

// apply sends the wanted state: IDLE, then whatever differs from it.
func (l *Line) apply(ctx context.Context, conn *atline.Conn) error {
	l.mu.Lock()
	w := l.want
	l.mu.Unlock()
	cmds := []atline.Kind{atline.KindIdle}
	if w.ringing {
		cmds = append(cmds, atline.KindRing)
	}
	if w.reversed {
		cmds = append(cmds, atline.KindReverse)
	}
	if w.talk {
		cmds = append(cmds, atline.KindTalk)
	}
	for _, k := range cmds {
		if err := l.do(ctx, conn, k); err != nil {
			var ce *atline.CommandError
			if k == atline.KindRing && errors.As(err, &ce) {
				continue // off hook by now: the OFFHOOK event follows
			}
			return err
		}
	}
	return nil
}

// do runs one command with the reply deadline on the Line's clock.
func (l *Line) do(ctx context.Context, conn *atline.Conn, k atline.Kind) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := l.opts.Clock.AfterFunc(l.cfg.CommandTimeout, cancel)
	defer t.Stop()
	return conn.Do(ctx, k)
}

// forward turns the Arduino's events into line events until the Conn
// stops. READY goes to resync: the Arduino lost its state.
func (l *Line) forward(conn *atline.Conn, resync chan<- string) {
	for m := range conn.Events() {
		now := l.opts.Clock.Now()
		l.mu.Lock()
		var ev line.Event
		switch m.Kind {
		case atline.KindOffHook:
			l.offHook = true
			l.want.ringing = false // the Arduino tripped the ring itself
			ev = line.Event{Kind: line.OffHook, At: now}
		case atline.KindOnHook:
			l.offHook = false
			ev = line.Event{Kind: line.OnHook, At: now}
		case atline.KindFlash:
			ev = line.Event{Kind: line.Flash, At: now}
		case atline.KindDigit:
			ev = line.Event{Kind: line.Digit, Digit: m.Digit, At: now}
		case atline.KindReady:
			// The Arduino restarted idle and reports OFFHOOK again if the
			// handset is up; until then, take it as down.
			if l.offHook {
				l.offHook = false
				ev = line.Event{Kind: line.OnHook, At: now}
			}
			select {
			case resync <- m.Text:
			default: // one resync pending is enough
			}
		}
		l.mu.Unlock()
		if ev.Kind != 0 {
			l.queue.Push(ev)
		}
	}
}

// command records the wanted state and sends k if the link is up.
func (l *Line) command(ctx context.Context, k atline.Kind, update func(*wanted)) error {
	l.mu.Lock()
	update(&l.want)
	conn := l.conn
	l.mu.Unlock()
	if conn == nil {
		return fmt.Errorf("%v: %w (%s)", k, ErrNotConnected, l.Status())
	}
	if err := l.do(ctx, conn, k); err != nil {
		return fmt.Errorf("serial %s: %w", l.cfg.Port, err)
	}
	return nil
}

// Events delivers the line events.
func (l *Line) Events() <-chan line.Event { return l.queue.Events() }

// Ring starts the bell. The Arduino rings with its own Japanese cadence
// (1 s on, 2 s off); the cadence argument is only checked.
func (l *Line) Ring(ctx context.Context, cadence []time.Duration) error {
	if err := loop.CheckCadence(cadence); err != nil {
		return err
	}
	err := l.command(ctx, atline.KindRing, func(w *wanted) { w.ringing = true })
	var ce *atline.CommandError
	if errors.As(err, &ce) {
		l.mu.Lock()
		l.want.ringing = false // refused: the handset is up
		l.mu.Unlock()
	}
	return err
}

// StopRinging silences the bell.
func (l *Line) StopRinging(ctx context.Context) error {
	return l.command(ctx, atline.KindRingStop, func(w *wanted) { w.ringing = false })
}

// Reverse sets the loop polarity. The protocol has no command back to
// normal polarity other than IDLE, so clearing it sends IDLE and then
// restores the speech path if it was connected.
func (l *Line) Reverse(ctx context.Context, reversed bool) error {
	if reversed {
		return l.command(ctx, atline.KindReverse, func(w *wanted) { w.reversed = true })
	}
	l.mu.Lock()
	talk := l.want.talk
	l.mu.Unlock()
	if err := l.command(ctx, atline.KindIdle, func(w *wanted) { w.reversed, w.ringing = false, false }); err != nil {
		return err
	}
	if talk {
		return l.command(ctx, atline.KindTalk, func(w *wanted) { w.talk = true })
	}
	return nil
}

// Talk connects or disconnects the speech path; disconnecting sends IDLE
// (the protocol's only way back) and restores the polarity.
func (l *Line) Talk(ctx context.Context, on bool) error {
	if on {
		return l.command(ctx, atline.KindTalk, func(w *wanted) { w.talk = true })
	}
	l.mu.Lock()
	rev := l.want.reversed
	l.mu.Unlock()
	if err := l.command(ctx, atline.KindIdle, func(w *wanted) { w.talk, w.ringing = false, false }); err != nil {
		return err
	}
	if rev {
		return l.command(ctx, atline.KindReverse, func(w *wanted) { w.reversed = true })
	}
	return nil
}

// Idle returns every output to rest.
func (l *Line) Idle(ctx context.Context) error {
	return l.command(ctx, atline.KindIdle, func(w *wanted) { *w = wanted{} })
}

// Status says how the link is, e.g. "serial /dev/ttyACM0: ready".
func (l *Line) Status() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.status
}

// Err is nil: the link is retried for as long as the Line is open.
func (l *Line) Err() error { return nil }

// Close stops the connection loop, closes the port and the event channel.
func (l *Line) Close() error {
	l.cancel()
	<-l.done
	l.queue.Close()
	l.setStatus("closed")
	return nil
}
