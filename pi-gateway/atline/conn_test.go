package atline_test

import (
	"context"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/kurodenwa/kurodenwa/pi-gateway/atline"
)

// bound caps every wait in these tests so that a bug fails the test instead
// of hanging it. Nothing sleeps; the happy paths finish at once.
const bound = 5 * time.Second

// duplex joins the two pipe ends the Conn uses.
type duplex struct {
	io.Reader
	io.Writer
	close func() error
}

func (d duplex) Close() error { return d.close() }

// fakeArduino is the device end of two pipes.
type fakeArduino struct {
	in  *atline.Reader // commands from the Pi
	out *io.PipeWriter // lines to the Pi
}

// expect reads the next command and checks its kind.
func (f *fakeArduino) expect(want atline.Kind) error {
	m, err := f.in.ReadMessage()
	if err != nil {
		return fmt.Errorf("fake: reading %v: %w", want, err)
	}
	if m.Kind != want {
		return fmt.Errorf("fake: got %v, want %v", m, want)
	}
	return nil
}

func (f *fakeArduino) send(lines string) error {
	_, err := io.WriteString(f.out, lines)
	return err
}

// run plays a device script on its own goroutine.
func (f *fakeArduino) run(script func() error) <-chan error {
	done := make(chan error, 1)
	go func() { done <- script() }()
	return done
}

func newPair(t *testing.T, opts atline.Options) (*atline.Conn, *fakeArduino) {
	t.Helper()
	piIn, devOut := io.Pipe()
	devIn, piOut := io.Pipe()
	conn := atline.NewConn(duplex{piIn, piOut, func() error {
		piIn.Close()
		return piOut.Close()
	}}, opts)
	t.Cleanup(func() {
		conn.Close()
		devOut.Close()
		devIn.Close()
	})
	return conn, &fakeArduino{in: atline.NewReader(devIn), out: devOut}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), bound)
	t.Cleanup(cancel)
	return c
}

func wait[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(bound):
		t.Fatal("timed out")
		panic("unreachable")
	}
}

func TestConnCommands(t *testing.T) {
	conn, dev := newPair(t, atline.Options{})
	cmds := []atline.Kind{atline.KindPing, atline.KindRing, atline.KindRingStop, atline.KindReverse, atline.KindTalk, atline.KindIdle}
	done := dev.run(func() error {
		for _, c := range cmds {
			if err := dev.expect(c); err != nil {
				return err
			}
			if err := dev.send("OK\r\n"); err != nil {
				return err
			}
		}
		return nil
	})
	for _, c := range cmds {
		require.NoError(t, conn.Do(ctx(t), c), "%v", c)
	}
	require.NoError(t, wait(t, done))
	assert.NoError(t, conn.Err())
}

func TestConnErrorReply(t *testing.T) {
	conn, dev := newPair(t, atline.Options{})
	done := dev.run(func() error {
		if err := dev.expect(atline.KindRing); err != nil {
			return err
		}
		return dev.send("ERROR off hook\n")
	})
	err := conn.Do(ctx(t), atline.KindRing)
	var ce *atline.CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, atline.KindRing, ce.Command)
	assert.Equal(t, "off hook", ce.Text)
	assert.EqualError(t, err, "atline: RING: device answered ERROR: off hook")
	require.NoError(t, wait(t, done))
}

// TestConnEventsBeforeReply: events between a command and its reply go to
// Events, in order, and the reply still reaches the command.
func TestConnEventsBeforeReply(t *testing.T) {
	conn, dev := newPair(t, atline.Options{})
	done := dev.run(func() error {
		if err := dev.expect(atline.KindRing); err != nil {
			return err
		}
		return dev.send("OFFHOOK\r\nDIGIT 1\r\nDIGIT 0\r\nOK\r\nFLASH\r\n")
	})
	require.NoError(t, conn.Do(ctx(t), atline.KindRing))
	require.NoError(t, wait(t, done))
	want := []atline.Message{
		{Kind: atline.KindOffHook},
		{Kind: atline.KindDigit, Digit: 1},
		{Kind: atline.KindDigit, Digit: 0},
		{Kind: atline.KindFlash},
	}
	for _, w := range want {
		assert.Equal(t, w, wait(t, conn.Events()))
	}
}

// TestConnNoReply: the command gives up with its context; the late reply
// is reported as stray and does not confuse the next command.
func TestConnNoReply(t *testing.T) {
	bad := make(chan error, 4)
	conn, dev := newPair(t, atline.Options{OnBadLine: func(err error) { bad <- err }})
	received := make(chan struct{})
	late := make(chan struct{})
	done := dev.run(func() error {
		if err := dev.expect(atline.KindTalk); err != nil {
			return err
		}
		close(received)
		<-late
		if err := dev.send("OK\r\n"); err != nil {
			return err
		}
		if err := dev.expect(atline.KindPing); err != nil {
			return err
		}
		return dev.send("ERROR second\r\n")
	})

	c, cancel := context.WithCancel(ctx(t))
	go func() {
		<-received
		cancel()
	}()
	err := conn.Do(c, atline.KindTalk)
	require.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "TALK: no reply")

	close(late)
	require.ErrorIs(t, wait(t, bad), atline.ErrStrayReply)

	var ce *atline.CommandError
	require.ErrorAs(t, conn.Do(ctx(t), atline.KindPing), &ce)
	assert.Equal(t, "second", ce.Text)
	require.NoError(t, wait(t, done))
}

func TestConnCancelledBeforeSend(t *testing.T) {
	conn, dev := newPair(t, atline.Options{})
	c, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, conn.Do(c, atline.KindRing), context.Canceled)

	// Nothing was sent: the device sees the next command first.
	done := dev.run(func() error {
		if err := dev.expect(atline.KindPing); err != nil {
			return err
		}
		return dev.send("OK\r\n")
	})
	require.NoError(t, conn.Do(ctx(t), atline.KindPing))
	require.NoError(t, wait(t, done))
}

func TestConnDeviceReset(t *testing.T) {
	conn, dev := newPair(t, atline.Options{})
	done := dev.run(func() error {
		if err := dev.expect(atline.KindRing); err != nil {
			return err
		}
		return dev.send("\xff\x00READY 2.1\r\n")
	})
	err := conn.Do(ctx(t), atline.KindRing)
	require.ErrorIs(t, err, atline.ErrDeviceReset)
	assert.Equal(t, atline.Message{Kind: atline.KindReady, Text: "2.1"}, wait(t, conn.Events()))
	require.NoError(t, wait(t, done))
}

func TestConnBadLines(t *testing.T) {
	bad := make(chan error, 8)
	conn, dev := newPair(t, atline.Options{OnBadLine: func(err error) { bad <- err }})
	done := dev.run(func() error {
		return dev.send("BOGUS\r\nRING\r\nOK\r\nDIGIT 12\r\n" +
			"OFFHOOKOFFHOOKOFFHOOKOFFHOOKOFFHOOKOFFHOOKOFFHOOKOFFHOOKOFFHOOKOFFHOOK\r\nONHOOK\r\n")
	})
	for _, want := range []error{atline.ErrUnknownWord, atline.ErrUnexpected, atline.ErrStrayReply, atline.ErrBadDigit, atline.ErrLineTooLong} {
		assert.ErrorIs(t, wait(t, bad), want)
	}
	assert.Equal(t, atline.Message{Kind: atline.KindOnHook}, wait(t, conn.Events()))
	require.NoError(t, wait(t, done))
}

func TestConnConcurrent(t *testing.T) {
	conn, dev := newPair(t, atline.Options{})
	const n = 8
	done := dev.run(func() error {
		for range n {
			if err := dev.expect(atline.KindPing); err != nil {
				return err
			}
			if err := dev.send("DIGIT 4\r\nOK\r\n"); err != nil {
				return err
			}
		}
		return nil
	})
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() { errs <- conn.Do(ctx(t), atline.KindPing) })
	}
	for range n {
		assert.Equal(t, atline.Message{Kind: atline.KindDigit, Digit: 4}, wait(t, conn.Events()))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.NoError(t, err)
	}
	require.NoError(t, wait(t, done))
}

func TestConnDeviceGone(t *testing.T) {
	conn, dev := newPair(t, atline.Options{})
	require.NoError(t, dev.send("ONHOOK\r\n"))
	require.NoError(t, dev.out.Close())
	assert.Equal(t, atline.KindOnHook, wait(t, conn.Events()).Kind)
	wait(t, conn.Done())
	_, ok := <-conn.Events()
	assert.False(t, ok, "Events is closed")
	require.ErrorIs(t, conn.Err(), io.EOF)
	err := conn.Do(ctx(t), atline.KindPing)
	require.ErrorIs(t, err, atline.ErrClosed)
	require.ErrorIs(t, err, io.EOF)
}

func TestConnClose(t *testing.T) {
	conn, dev := newPair(t, atline.Options{})
	received := make(chan struct{})
	go func() {
		if dev.expect(atline.KindRing) == nil {
			close(received)
		}
	}()
	errc := make(chan error, 1)
	go func() { errc <- conn.Do(ctx(t), atline.KindRing) }()
	wait(t, received)
	require.NoError(t, conn.Close())
	require.ErrorIs(t, wait(t, errc), atline.ErrClosed)
	wait(t, conn.Done())
	_, ok := <-conn.Events()
	assert.False(t, ok, "Events is closed")
	require.ErrorIs(t, conn.Do(ctx(t), atline.KindPing), atline.ErrClosed)
	require.NoError(t, conn.Close(), "a second Close is harmless")
}

// TestConnCloseWithFullEvents: Close must stop the reader even while it
// waits for room in Events.
func TestConnCloseWithFullEvents(t *testing.T) {
	conn, dev := newPair(t, atline.Options{EventBuffer: 1})
	sent := dev.run(func() error { return dev.send("FLASH\r\nFLASH\r\nFLASH\r\n") })
	require.NoError(t, wait(t, sent)) // the reader has taken all three lines
	require.NoError(t, conn.Close())
	wait(t, conn.Done())
}

func TestConnRejectsNonCommand(t *testing.T) {
	conn, _ := newPair(t, atline.Options{})
	for _, k := range []atline.Kind{atline.KindOK, atline.KindOffHook, 0, 77} {
		assert.Error(t, conn.Do(ctx(t), k))
	}
}
