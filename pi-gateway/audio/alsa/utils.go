package alsa

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// The alsa-utils driver: arecord and aplay as children, each on its own
// pipe, each restarted on its own when it dies.

const (
	restartMin   = 100 * time.Millisecond
	restartMax   = 5 * time.Second
	stableRun    = 10 * time.Second // a child that ran this long starts the back-off over
	startTimeout = 3 * time.Second  // for arecord's first audio
	drainTimeout = time.Second      // for aplay to play out on Close
	stderrKeep   = 8                // stderr lines kept for the error
)

type direction int

const (
	capture direction = iota
	playback
)

var progNames = [2]string{capture: "arecord", playback: "aplay"}

type utils struct {
	cfg      Config
	d        *duplex
	log      *slog.Logger
	dev      string    // the PCM
	paths    [2]string // arecord, aplay
	chunk    int       // samples per period at the card rate
	ctx      context.Context
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	playDone chan struct{} // closed when the playback side has ended

	mu       sync.Mutex
	restarts int
}

// openUtils starts arecord and aplay and returns once arecord delivers
// audio, or with the first child's error.
func openUtils(cfg Config, d *duplex, log *slog.Logger) (*utils, error) {
	u := &utils{
		cfg: cfg, d: d, log: log, dev: cfg.Device,
		chunk:    int(int64(cfg.Rate) * int64(cfg.Period) / int64(time.Second)),
		playDone: make(chan struct{}),
	}
	if u.dev == "" {
		u.dev = "default"
	}
	for dir, path := range [2]string{cfg.Arecord, cfg.Aplay} {
		if path == "" {
			p, err := exec.LookPath(progNames[dir])
			if err != nil {
				return nil, fmt.Errorf("alsa: driver %s needs %s (apt-get install alsa-utils): %w", DriverUtils, progNames[dir], err)
			}
			path = p
		}
		u.paths[dir] = path
	}
	u.ctx, u.cancel = context.WithCancel(context.Background())
	capC, err := u.start(capture)
	if err != nil {
		u.cancel()
		return nil, err
	}
	playC, err := u.start(playback)
	if err != nil {
		u.cancel()
		capC.pipe.Close()
		<-capC.done
		return nil, err
	}
	// aplay reads its input only once it has opened the device, so a
	// period of silence it takes is its sign of life, as arecord's first
	// audio is arecord's. (A write to a dead aplay fails; its exit says why.)
	_, _ = playC.pipe.Write(make([]byte, 2*u.chunk))
	ready := make(chan struct{})
	capErr, playErr := make(chan error, 1), make(chan error, 1)
	go func() { capErr <- u.pumpCapture(capC, ready) }()
	go func() { playErr <- u.pumpPlayback(playC) }()
	err = u.awaitStart(playC, ready, capErr, playErr)
	if err != nil {
		u.cancel()
		<-capErr
		<-playErr
		return nil, err
	}
	u.wg.Add(2)
	go u.supervise(capture, capErr)
	go func() {
		defer close(u.playDone)
		u.supervise(playback, playErr)
	}()
	log.Info("alsa: sound card open", "driver", DriverUtils, "device", u.dev, "rate", cfg.Rate,
		"period", cfg.Period, "periods", cfg.Periods)
	return u, nil
}

// latency is what this driver adds to the duplex's: the playback pipe
// (held to at most one period, see waitPipe) and the chunk aplay holds
// while it waits for room in the card's buffer.
func (u *utils) latency() time.Duration { return 2 * u.cfg.Period }

func (u *utils) restartCount() int {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.restarts
}

// stop lets aplay play out, then ends both children and waits for them.
func (u *utils) stop() {
	timer := time.NewTimer(drainTimeout + time.Second)
	select {
	case <-u.playDone:
	case <-timer.C:
	}
	timer.Stop()
	u.cancel()
	u.wg.Wait()
}

// child is one running arecord or aplay.
type child struct {
	prog   string
	dev    string
	pipe   *os.File // our end: arecord's stdout or aplay's stdin
	stderr *lineLog
	cancel context.CancelFunc
	done   chan struct{} // closed when it has exited; err is then set
	err    error
}

func (u *utils) args(dir direction) []string {
	us := func(d time.Duration) string { return strconv.FormatInt(int64(d/time.Microsecond), 10) }
	// -N: a busy card fails at once instead of blocking the open; explicit
	// period and buffer times make the latency known.
	return []string{
		"-q", "-N", "-D", u.dev, "-t", "raw", "-f", "S16_LE", "-c", "1", "-r", strconv.Itoa(u.cfg.Rate),
		"--period-time=" + us(u.cfg.Period), "--buffer-time=" + us(u.cfg.Period*time.Duration(u.cfg.Periods)), "-",
	}
}

// awaitStart waits, bounded, until both children show they opened the
// device: arecord's first audio (ready) and aplay taking the silence put in
// its pipe. A child that exits first fails the open with its own error;
// each error read is put back for the supervisor.
func (u *utils) awaitStart(play *child, ready <-chan struct{}, capErr, playErr chan error) error {
	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	poll := time.NewTicker(2 * time.Millisecond)
	defer poll.Stop()
	recording, playing := false, false
	for !recording || !playing {
		select {
		case <-ready:
			recording, ready = true, nil
		case <-poll.C:
			select {
			case <-play.done:
				continue // it exited without reading; playErr says why
			default:
			}
			// Where the pipe cannot be asked (not Linux), aplay alive is
			// all there is to go on.
			if n, ok := pipeFill(play.pipe); !ok || n == 0 {
				playing = true
			}
		case err := <-capErr:
			capErr <- err
			return err
		case err := <-playErr:
			playErr <- err
			// A bad device fails both: name arecord's error, as for capture.
			wait := time.NewTimer(200 * time.Millisecond)
			defer wait.Stop()
			select {
			case cerr := <-capErr:
				capErr <- cerr
				return cerr
			case <-wait.C:
			}
			return err
		case <-timer.C:
			if !recording {
				return fmt.Errorf("alsa: no audio from arecord -D %q within %v", u.dev, startTimeout)
			}
			return fmt.Errorf("alsa: aplay -D %q took no audio within %v", u.dev, startTimeout)
		}
	}
	return nil
}

// start runs one child on a fresh pipe.
func (u *utils) start(dir direction) (*child, error) {
	prog := progNames[dir]
	r, w, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("alsa: pipe for %s: %w", prog, err)
	}
	ours, theirs := r, w
	if dir == playback {
		ours, theirs = w, r
	}
	// One page: at 48 kHz mono that is 43 ms, which the pumps keep
	// nearly empty (the reader drains at once, waitPipe holds the writer).
	if got := setPipeSize(ours, 2*u.chunk); got > 0 {
		u.log.Debug("alsa: pipe shrunk", "prog", prog, "bytes", got)
	}
	ctx, cancel := context.WithCancel(u.ctx)
	cmd := exec.CommandContext(ctx, u.paths[dir], u.args(dir)...)
	cmd.Env = append(os.Environ(), u.cfg.env...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = time.Second // then SIGKILL, and stop waiting for stderr
	ll := &lineLog{prog: prog, log: u.log}
	cmd.Stderr = ll
	if dir == capture {
		cmd.Stdout = theirs
	} else {
		cmd.Stdin = theirs
	}
	if err := cmd.Start(); err != nil {
		cancel()
		r.Close()
		w.Close()
		return nil, fmt.Errorf("alsa: start %s -D %q: %w", prog, u.dev, err)
	}
	theirs.Close()
	c := &child{prog: prog, dev: u.dev, pipe: ours, stderr: ll, cancel: cancel, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		cancel()
		close(c.done)
	}()
	u.log.Debug("alsa: child started", "prog", prog, "pid", cmd.Process.Pid, "args", strings.Join(u.args(dir), " "))
	if u.cfg.onStart != nil {
		u.cfg.onStart(prog, cmd.Process.Pid)
	}
	return c, nil
}

// failure says why a child ended, with its own error line.
func (c *child) failure() error {
	sum := c.stderr.summary()
	hint := ""
	if strings.Contains(sum, "audio open error") {
		hint = ` (audio.alsa.device must name an ALSA PCM such as "default" or "plughw:CARD=Device,DEV=0"; arecord -L lists them)`
	}
	if sum != "" {
		sum = ": " + sum
	}
	if c.err == nil {
		return fmt.Errorf("alsa: %s -D %q exited%s%s", c.prog, c.dev, sum, hint)
	}
	return fmt.Errorf("alsa: %s -D %q stopped (%w)%s%s", c.prog, c.dev, c.err, sum, hint)
}

// waitExit waits for the child, ending it after grace.
func (c *child) waitExit(grace time.Duration) {
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-c.done:
	case <-t.C:
		c.cancel()
		<-c.done
	}
}

// pumpCapture moves arecord's output into the duplex until it ends;
// ready, if set, is closed at the first audio.
func (u *utils) pumpCapture(c *child, ready chan struct{}) error {
	defer c.pipe.Close()
	buf := make([]byte, 2*u.chunk)
	samples := make([]int16, 0, u.chunk)
	carry := 0
	for {
		n, err := c.pipe.Read(buf[carry:])
		n += carry
		if n >= 2 {
			samples = bytesToInt16(samples[:0], buf[:n&^1])
			u.d.capture(samples)
			if ready != nil {
				close(ready)
				ready = nil
			}
		}
		carry = n & 1
		if carry == 1 {
			buf[0] = buf[n-1]
		}
		if err != nil {
			break
		}
	}
	// EOF: arecord has exited or is about to.
	c.waitExit(time.Second)
	return c.failure()
}

// pumpPlayback feeds aplay from the duplex until the device closes or
// aplay ends. On close it hands over what is queued and closes aplay's
// input, so that aplay plays it out and exits.
func (u *utils) pumpPlayback(c *child) error {
	buf := make([]int16, 0, u.chunk)
	b := make([]byte, 2*u.chunk)
	var err error
	for err == nil {
		buf, err = u.d.takePlay(u.ctx, c.done, buf[:0], u.chunk)
		if len(buf) > 0 {
			u.waitPipe(c)
			int16ToBytes(b, buf)
			if _, werr := c.pipe.Write(b[:2*len(buf)]); werr != nil {
				err = werr
			}
		}
	}
	c.pipe.Close()
	if errors.Is(err, ErrClosed) {
		c.waitExit(drainTimeout)
		return err
	}
	c.waitExit(time.Second)
	return c.failure()
}

// waitPipe holds the writer while aplay has not taken the last chunk: a
// full pipe (a page, 43 ms at 48 kHz) would otherwise sit between Write
// and the card as hidden delay. It sleeps about as long as the card takes
// to play what waits.
func (u *utils) waitPipe(c *child) {
	for {
		n, ok := pipeFill(c.pipe)
		if !ok || n == 0 {
			return
		}
		d := max(time.Duration(n)*time.Second/time.Duration(2*u.cfg.Rate), time.Millisecond)
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-c.done:
			t.Stop()
			return
		case <-u.ctx.Done():
			t.Stop()
			return
		}
	}
}

// supervise restarts one side's child whenever it ends, with back-off;
// while none runs, gap stands in for it. It returns when the device
// closes.
func (u *utils) supervise(dir direction, running <-chan error) {
	defer u.wg.Done()
	backoff := restartMin
	started := time.Now()
	for {
		err := <-running
		if u.ctx.Err() != nil || u.d.isClosed() {
			return
		}
		if time.Since(started) >= stableRun {
			backoff = restartMin
		}
		u.mu.Lock()
		u.restarts++
		u.mu.Unlock()
		u.log.Warn("alsa: sound card child stopped; restarting it", "prog", progNames[dir], "err", err, "in", backoff)
		var c *child
		for {
			if !u.gap(dir, backoff) {
				return
			}
			backoff = min(2*backoff, restartMax)
			if c, err = u.start(dir); err == nil {
				break
			}
			u.log.Warn("alsa: cannot restart", "prog", progNames[dir], "err", err, "in", backoff)
		}
		started = time.Now()
		ch := make(chan error, 1)
		if dir == capture {
			go func() { ch <- u.pumpCapture(c, nil) }()
		} else {
			go func() { ch <- u.pumpPlayback(c) }()
		}
		running = ch
	}
}

// gap stands in for a missing child for d at the card's pace: capture
// delivers silence and playback discards, so Read and Write neither fail
// nor hang. It reports false when the device is closing.
func (u *utils) gap(dir direction, d time.Duration) bool {
	end := time.NewTimer(d)
	defer end.Stop()
	tick := time.NewTicker(u.cfg.Period)
	defer tick.Stop()
	period := make([]int16, u.chunk)
	for {
		select {
		case <-u.ctx.Done():
			return false
		case <-end.C:
			return !u.d.isClosed()
		case <-tick.C:
			if u.d.isClosed() {
				return false
			}
			if dir == capture {
				clear(period)
				u.d.capture(period)
			} else {
				u.d.playback(period)
			}
		}
	}
}

// lineLog takes a child's stderr: each line is logged at debug level
// (xruns included: aplay and arecord recover from them themselves) and the
// last few are kept for the error.
type lineLog struct {
	prog    string
	log     *slog.Logger
	mu      sync.Mutex
	partial []byte
	lines   []string
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSpace(string(l.partial[:i]))
		l.partial = l.partial[i+1:]
		if line == "" {
			continue
		}
		l.log.Debug("alsa: child says", "prog", l.prog, "line", line)
		l.lines = append(l.lines, line)
		if len(l.lines) > stderrKeep {
			l.lines = l.lines[1:]
		}
	}
	return len(p), nil
}

// summary is the program's own error line ("arecord: main:831: audio open
// error: …") and ALSA's first line ("Unknown PCM USB").
func (l *lineLog) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	lines := l.lines
	if s := strings.TrimSpace(string(l.partial)); s != "" {
		lines = append(lines[:len(lines):len(lines)], s)
	}
	var own, lib string
	for _, s := range lines {
		switch {
		case strings.HasPrefix(s, l.prog+":"):
			own = s
		case lib == "" && strings.HasPrefix(s, "ALSA lib"):
			lib = s
		}
	}
	switch {
	case own != "" && lib != "":
		return own + " (" + lib + ")"
	case own != "":
		return own
	case lib != "":
		return lib
	case len(lines) > 0:
		return lines[len(lines)-1]
	}
	return ""
}

func bytesToInt16(dst []int16, b []byte) []int16 {
	for i := 0; i+1 < len(b); i += 2 {
		dst = append(dst, int16(uint16(b[i])|uint16(b[i+1])<<8))
	}
	return dst
}

func int16ToBytes(dst []byte, s []int16) {
	for i, v := range s {
		if 2*i+1 >= len(dst) {
			return
		}
		dst[2*i], dst[2*i+1] = byte(v), byte(uint16(v)>>8)
	}
}
