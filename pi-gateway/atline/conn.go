package atline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
)

var (
	// ErrClosed is returned by Do after Close, or after the stream ended.
	ErrClosed = errors.New("atline: connection closed")
	// ErrDeviceReset is returned by Do when the Arduino announced READY
	// while the command was waiting: it restarted and lost the command.
	ErrDeviceReset = errors.New("atline: device restarted")
	// ErrStrayReply is reported to Options.OnBadLine for an OK or ERROR
	// that no command was waiting for, such as the late reply of a
	// command whose context ended.
	ErrStrayReply = errors.New("atline: reply without a command")
	// ErrUnexpected is reported to Options.OnBadLine for a command word
	// received from the Arduino (echo is not part of the protocol).
	ErrUnexpected = errors.New("atline: command received from the device")
)

// CommandError is the Arduino's ERROR reply to a command.
type CommandError struct {
	Command Kind
	Text    string // may be empty
}

func (e *CommandError) Error() string {
	if e.Text == "" {
		return fmt.Sprintf("atline: %v: device answered ERROR", e.Command)
	}
	return fmt.Sprintf("atline: %v: device answered ERROR: %s", e.Command, e.Text)
}

// Options tune a Conn. The zero value is ready to use.
type Options struct {
	// EventBuffer is the capacity of the Events channel; 0 means 16. While
	// it is full, reading stops, and with it the replies to commands.
	EventBuffer int
	// OnBadLine, if set, receives every line that was not a valid message
	// from the Arduino: a *SyntaxError, ErrStrayReply or ErrUnexpected
	// (wrapped). It runs on the reading goroutine and must not block.
	OnBadLine func(error)
}

// Conn runs the protocol over a byte stream, usually a serial port. One
// goroutine reads: replies go to the waiting Do, events to Events. Do may
// be called from several goroutines; commands are sent one at a time.
type Conn struct {
	w         io.Writer
	closer    io.Closer // rw, if it can be closed
	onBadLine func(error)

	events  chan Message
	sem     chan struct{} // held by the command in flight
	closing chan struct{} // closed by Close
	done    chan struct{} // closed when reading has stopped
	readErr error         // why reading stopped; set before done closes

	closeOnce sync.Once
	closeErr  error

	mu     sync.Mutex
	waiter chan Message // the in-flight command's reply slot, or nil
}

// NewConn starts reading from rw and returns the Conn. Close it to stop.
func NewConn(rw io.ReadWriter, opts Options) *Conn {
	size := opts.EventBuffer
	if size <= 0 {
		size = 16
	}
	c := &Conn{
		w:         rw,
		onBadLine: opts.OnBadLine,
		events:    make(chan Message, size),
		sem:       make(chan struct{}, 1),
		closing:   make(chan struct{}),
		done:      make(chan struct{}),
	}
	c.closer, _ = rw.(io.Closer)
	go c.read(NewReader(rw))
	return c
}

// Events delivers OFFHOOK, ONHOOK, FLASH, DIGIT and READY in arrival order.
// It is closed when reading stops. READY means the Arduino restarted: the
// line state it had is gone.
func (c *Conn) Events() <-chan Message { return c.events }

// Done is closed when reading has stopped; Err then says why.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns why reading stopped, or nil while it runs.
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.readErr
	default:
		return nil
	}
}

// Close stops the Conn and closes rw if it is an io.Closer. Reading stops
// once rw's Read returns; see Done. Close is safe to call more than once.
func (c *Conn) Close() error {
	c.closeOnce.Do(func() {
		close(c.closing)
		if c.closer != nil {
			c.closeErr = c.closer.Close()
		}
	})
	return c.closeErr
}

// Do sends a command and waits for its reply. It returns nil for OK, a
// *CommandError for ERROR, ErrDeviceReset if the Arduino restarted
// instead, ErrClosed (wrapping the read error, if any) when the Conn
// stops, and ctx's error, wrapped, when ctx ends first. Writing the line
// itself is not interruptible; a serial port accepts a short line at once.
//
// A reply that arrives after its command gave up is dropped as stray. If it
// arrives after the next command was sent, it is taken as that command's
// reply: the protocol carries no sequence numbers, so keep ctx deadlines
// well above the Arduino's reply time (see PROTOCOL.md).
func (c *Conn) Do(ctx context.Context, cmd Kind) error {
	if !cmd.IsCommand() {
		return fmt.Errorf("atline: %v is not a command", cmd)
	}
	line, err := Message{Kind: cmd}.AppendText(make([]byte, 0, 16))
	if err != nil {
		return err // unreachable for a command
	}
	line = append(line, '\r', '\n')

	select {
	case c.sem <- struct{}{}:
	case <-ctx.Done():
		return fmt.Errorf("atline: %v: waiting to send: %w", cmd, ctx.Err())
	case <-c.closing:
		return fmt.Errorf("atline: %v: %w", cmd, ErrClosed)
	case <-c.done:
		return c.stopped(cmd)
	}
	defer func() { <-c.sem }()
	// select picks among ready cases at random, so check again: a command
	// must not be sent to a Conn that has stopped or a ctx that has ended.
	select {
	case <-c.closing:
		return fmt.Errorf("atline: %v: %w", cmd, ErrClosed)
	case <-c.done:
		return c.stopped(cmd)
	default:
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("atline: %v: not sent: %w", cmd, err)
	}

	reply := make(chan Message, 1)
	c.mu.Lock()
	c.waiter = reply // before writing, so a quick reply finds it
	c.mu.Unlock()
	defer func() {
		c.mu.Lock()
		if c.waiter == reply {
			c.waiter = nil
		}
		c.mu.Unlock()
	}()

	if _, err := c.w.Write(line); err != nil {
		return fmt.Errorf("atline: send %v: %w", cmd, err)
	}
	select {
	case m := <-reply:
		switch m.Kind {
		case KindOK:
			return nil
		case KindError:
			return &CommandError{Command: cmd, Text: m.Text}
		default: // KindReady
			return fmt.Errorf("atline: %v: %w (READY %s)", cmd, ErrDeviceReset, m.Text)
		}
	case <-ctx.Done():
		return fmt.Errorf("atline: %v: no reply: %w", cmd, ctx.Err())
	case <-c.closing:
		return fmt.Errorf("atline: %v: %w", cmd, ErrClosed)
	case <-c.done:
		return c.stopped(cmd)
	}
}

func (c *Conn) stopped(cmd Kind) error {
	if c.readErr == nil {
		return fmt.Errorf("atline: %v: %w", cmd, ErrClosed)
	}
	return fmt.Errorf("atline: %v: %w: %w", cmd, ErrClosed, c.readErr)
}

// read is the reading goroutine.
func (c *Conn) read(r *Reader) {
	defer close(c.events)
	for {
		m, err := r.ReadMessage()
		var syntax *SyntaxError
		switch {
		case errors.As(err, &syntax):
			c.bad(err)
			continue
		case err != nil:
			c.readErr = err
			close(c.done)
			return
		}
		switch {
		case m.Kind.IsReply():
			if !c.answer(m) {
				c.bad(fmt.Errorf("%w: %v", ErrStrayReply, m))
			}
			continue
		case m.Kind == KindReady:
			c.answer(m) // a restart loses the command in flight
		case m.Kind.IsCommand():
			c.bad(fmt.Errorf("%w: %v", ErrUnexpected, m))
			continue
		}
		select {
		case c.events <- m:
		case <-c.closing:
			c.readErr = ErrClosed
			close(c.done)
			return
		}
	}
}

// answer hands m to the waiting command, if any.
func (c *Conn) answer(m Message) bool {
	c.mu.Lock()
	w := c.waiter
	c.waiter = nil
	c.mu.Unlock()
	if w == nil {
		return false
	}
	w <- m // buffered, and only one reply per waiter
	return true
}

func (c *Conn) bad(err error) {
	if c.onBadLine != nil {
		c.onBadLine(err)
	}
}
